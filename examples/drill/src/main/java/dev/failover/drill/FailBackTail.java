package dev.failover.drill;

import dev.failover.testkit.load.OpenLoopGenerator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * The fail-back tail. Fail-back is deliberately not instant: once every zone has healed (the last
 * phase, {@code fail-back}), the SDK waits out a bounded hysteresis before it sends first attempts
 * home again (docs/failover-semantics.md, "Fail-back is bounded"), so a drill that stops with its
 * last phase can end before the return and never show it. After the last phase the load generator
 * keeps the same open-loop load running (same clock, same rate, both clients) for up to {@code
 * --tail}, and stops as soon as, {@link #IN_A_ROW} whole seconds in a row, at least {@link
 * #HOME_SHARE} of the sdk's first attempts went to the home zone.
 *
 * <p>The watch starts with the first second of the last phase: if the sdk is home for two seconds
 * in a row before the phase ends, the tail has no second at all. The generator asks {@link
 * #goOn(int)} at the start of each second of the tail, before that second's first call, so every
 * second of the tail is whole. At that moment the last calls of the previous second may not have
 * ended, so a second counts as home only when its first attempts that went home, so far, reach
 * {@link #HOME_SHARE} of the calls that started in it: a share that later first attempts can only
 * raise, as a call has at most one. (The sdk counts a first attempt in the second its call started,
 * not the second it was due: when the generator lags, a call due at 13.95 s that leaves at 14.1 s
 * counts in 14 s; so the calls are counted the same way here, by {@link Stats#started(long)}.) When
 * that is not yet sure, the tail runs one more second and looks again.
 *
 * <p>The tail's calls are counted apart ({@link Stats}, {@link GeneratorLag}): never in a phase, a
 * second of the drill or the drill's total. The reports show them after the phases, marked {@code
 * tail}, and {@link #homeBackAt()} says when the sdk was back home, from the final counts.
 */
final class FailBackTail implements OpenLoopGenerator.Tail {
  /** At least this share of the sdk's first attempts in the home zone makes a second "home". */
  static final double HOME_SHARE = 0.9;

  /** This many home seconds in a row end the tail. */
  static final int IN_A_ROW = 2;

  /** Why the tail ended. */
  enum Ended {
    /**
     * The sdk was back home: {@link #IN_A_ROW} home seconds in a row, seen while the tail ran, or
     * only by the final counts, in its last seconds, as its time was up ({@link
     * #homeSeenAtTheEnd}).
     */
    HOME,
    /**
     * The tail's time was up (or the load was stopped), and by the final counts the sdk was not
     * back home.
     */
    TIME,
    /** There was no tail ({@code --tail 0}). */
    OFF
  }

  private final Phase healed;
  private final Duration end;
  private final Duration max;
  private final String homeZone;
  private final Stats sdk;
  private final List<Integer> watched = new ArrayList<>();
  private volatile int seconds;
  private volatile boolean home;
  private volatile @Nullable Double healBegan;

  /**
   * @param healed the last phase, in which every zone has healed; the watch starts with it
   * @param end the drill's end: where the tail starts
   * @param max the longest tail, whole seconds; zero for none
   * @param homeZone the sdk's home zone
   * @param sdk the sdk's results, with room for the tail
   */
  FailBackTail(Phase healed, Duration end, Duration max, String homeZone, Stats sdk) {
    this.healed = healed;
    this.end = end;
    this.max = max;
    this.homeZone = homeZone;
    this.sdk = sdk;
    for (int i = 0; i < sdk.secondCount(); i++) {
      if (sdk.second(i).phase().name().equals(healed.name())) {
        watched.add(i);
      }
    }
  }

  /**
   * Called by the load generator at the start of second {@code k} of the tail, before its first
   * call: whether to send it. No, once the sdk has been home {@link #IN_A_ROW} seconds in a row
   * since every zone healed, as far as the first attempts so far tell.
   */
  @Override
  public synchronized boolean goOn(int k) {
    if (home || k >= max.toSeconds()) {
      return false;
    }
    int run = 0;
    for (int i : watched) {
      run = surelyHome(sdk.firstAttempts(i, homeZone), sdk.started(i)) ? run + 1 : 0;
      if (run >= IN_A_ROW) {
        home = true;
        return false;
      }
    }
    for (int t = 0; t < k; t++) {
      run = surelyHome(sdk.tailFirstAttempts(t, homeZone), sdk.tailStarted(t)) ? run + 1 : 0;
      if (run >= IN_A_ROW) {
        home = true;
        return false;
      }
    }
    seconds = k + 1;
    return true;
  }

  /**
   * Whether {@code homeFirsts} first attempts at home in a second in which {@code started} calls
   * started are enough whatever the rest of them do: a call has at most one first attempt.
   */
  static boolean surelyHome(long homeFirsts, long started) {
    return started > 0 && homeFirsts >= HOME_SHARE * started;
  }

  /** Seconds of the tail whose load was sent (so far, while it runs). */
  int seconds() {
    return seconds;
  }

  /** The longest tail; zero for none. */
  Duration max() {
    return max;
  }

  /** When the tail began: the drill's end. */
  Duration start() {
    return end;
  }

  /** When the tail's load ended. */
  Duration stop() {
    return end.plusSeconds(seconds);
  }

  /** When every zone was to heal: the last phase's planned start. */
  Duration healedAt() {
    return healed.start();
  }

  /**
   * Tells when every zone actually healed, in seconds from the start: when the last phase's step
   * had healed them ({@code phase fail-back begins}), later than planned if that step ran late;
   * null if it never ran (the drill ended first). Call once the load has ended, before the reports.
   */
  void healBegan(@Nullable Double seconds) {
    this.healBegan = seconds;
  }

  /** When every zone actually healed ({@link #healBegan}), or null if not told or it never did. */
  @Nullable Double healBegan() {
    return healBegan;
  }

  /**
   * When every zone healed, in seconds from the start, as the return is timed from: when it
   * actually did ({@link #healBegan}), or else when it was to.
   */
  double healedSeconds() {
    Double began = healBegan;
    return began != null ? began : healed.start().toMillis() / 1000.0;
  }

  String homeZone() {
    return homeZone;
  }

  /**
   * Why the tail ended, once the load has ended and its calls are counted: the generator does not
   * look again after the tail's last second (nor when the load is stopped), so the sdk may be back
   * home by the final counts though the tail's time was up; that is {@link Ended#HOME}, so that the
   * reason and {@link #homeBackAt()} always agree.
   */
  Ended ended() {
    if (max.isZero()) {
      return Ended.OFF;
    }
    return home || homeBackAt() != null ? Ended.HOME : Ended.TIME;
  }

  /**
   * Whether the tail ran until its time was up and only the final counts, once its last calls had
   * ended, showed the sdk back home: it came home in the tail's last seconds.
   */
  boolean homeSeenAtTheEnd() {
    return !home && !max.isZero() && homeBackAt() != null;
  }

  /**
   * When the sdk was back home, in seconds from the drill's start: the start of the first of {@link
   * #IN_A_ROW} seconds in a row (the last phase's and the tail's, in order) in each of which at
   * least {@link #HOME_SHARE} of the sdk's first attempts went home, by the final counts (once
   * every call has ended); at the earliest when every zone healed ({@link #healedSeconds()}). Null
   * if it never was.
   */
  @Nullable Double homeBackAt() {
    List<Double> starts = new ArrayList<>();
    List<Stats.Summary> buckets = new ArrayList<>();
    for (int i : watched) {
      starts.add((double) i);
      buckets.add(sdk.second(i));
    }
    for (int t = 0; t < seconds; t++) {
      starts.add(end.toMillis() / 1000.0 + t);
      buckets.add(sdk.tailSecond(t));
    }
    int run = 0;
    for (int j = 0; j < buckets.size(); j++) {
      run = buckets.get(j).share(homeZone) >= HOME_SHARE ? run + 1 : 0;
      if (run >= IN_A_ROW) {
        return Math.max(starts.get(j - IN_A_ROW + 1), healedSeconds());
      }
    }
    return null;
  }

  /**
   * The sentence the reports give, such as {@code sdk first attempts back home (>= 90% in
   * us-east-1a) at 67.0 s, 7.0 s after every zone healed}, timed from when every zone actually
   * healed ({@link #healedSeconds()}).
   */
  String verdict() {
    Double back = homeBackAt();
    String rule = String.format(Locale.ROOT, "(>= %.0f%% in %s)", HOME_SHARE * 100, homeZone);
    double healedS = healedSeconds();
    if (back != null) {
      return String.format(
          Locale.ROOT,
          "sdk first attempts back home %s at %.1f s, %.1f s after every zone healed",
          rule,
          back,
          back - healedS);
    }
    if (max.isZero()) {
      return String.format(
          Locale.ROOT,
          "sdk first attempts not back home by the drill's end %s, %.1f s after every zone healed"
              + " (no tail: --tail 0)",
          rule,
          end.toMillis() / 1000.0 - healedS);
    }
    return String.format(
        Locale.ROOT,
        "sdk first attempts not back home within the %d s tail %s; every zone healed at %.1f s",
        max.toSeconds(),
        rule,
        healedS);
  }
}

package dev.failover.statemachine;

import static dev.failover.statemachine.Harness.A1;
import static dev.failover.statemachine.Harness.B1;
import static dev.failover.statemachine.Harness.DEADLINE;
import static dev.failover.statemachine.Harness.HEDGE_DELAY;
import static dev.failover.statemachine.Harness.MIN_ATTEMPT;
import static dev.failover.statemachine.Harness.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.failover.Attempt;
import dev.failover.FailoverEvent;
import dev.failover.FailoverException;
import dev.failover.Outcome;
import dev.failover.statemachine.FakeScheduler.Pending;
import dev.failover.statemachine.FakeTransport.Exchange;
import java.net.ConnectException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Timers that meet: hedge and retry, retry and deadline, deadline and attempts in flight. */
class TimerRaceTest {

  /**
   * The first attempt fails so that its retry falls due at the very instant its hedge timer would
   * have fired. Exactly one attempt is sent then, the retry. With {@code lateCancel} the hedge
   * timer's cancellation comes too late to stop it (as when a real scheduler thread had already
   * started it and waited for the call's lock), so both timers run at that instant, hedge first.
   */
  @ParameterizedTest(name = "cancel of the hedge timer arrives late: {0}")
  @ValueSource(booleans = {false, true})
  void aHedgeTimerDueAtTheInstantTheRetryIsDueSendsNothing(boolean lateCancel) {
    Duration bound = Duration.ofMillis(100);
    try (Harness h = Harness.hedging(b -> b.backoff(bound, bound))) {
      String path = "/race/hedge-and-retry";
      long t0 = h.scheduler.now();
      long instant = t0 + HEDGE_DELAY.toNanos();
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(get(path), cb);
      Exchange first = h.transport.next();
      Pending hedgeTimer = h.scheduler.awaitOneShotAt(instant);

      // The seeded generator tells the jitter of the first retry before the client draws it.
      long backoff = h.predictFirstBackoff(bound);
      assertThat(backoff).isBetween(1L, bound.toNanos());
      h.scheduler.cancelsArriveLate(lateCancel);
      h.scheduler.advanceTo(instant - backoff);
      first.fail(new ConnectException("refused"));

      assertThat(h.events.awaitRetry(path, 1).backoff()).isEqualTo(Duration.ofNanos(backoff));
      // The retry timer is scheduled after the hedge timer was cancelled (under the call's lock).
      Pending retryTimer =
          h.scheduler.awaitPending(
              p -> !p.periodic() && p.due() == instant && p.id() != hedgeTimer.id(),
              "the retry timer");
      assertThat(retryTimer.cancelled()).isFalse();
      assertThat(h.scheduler.pendingOneShots())
          .filteredOn(p -> p.id() == hedgeTimer.id())
          .extracting(Pending::cancelled)
          .containsExactlyElementsOf(lateCancel ? List.of(true) : List.of());
      long sentBefore = h.client.snapshot().counters().attempts();

      h.scheduler.advanceTo(instant);

      // Timers run on this thread: whatever they sent has been counted when advanceTo returns.
      assertThat(h.client.snapshot().counters().attempts()).isEqualTo(sentBefore + 1);
      assertThat(h.client.snapshot().counters().hedgesSent()).isZero();
      Exchange retry = h.transport.next();
      assertThat(retry.host()).isEqualTo(B1);
      // The retry armed a hedge timer of its own.
      h.scheduler.awaitOneShotAt(instant + HEDGE_DELAY.toNanos());
      retry.respond(200);
      assertThat(cb.awaitStatus()).isEqualTo(200);

      h.quiesce();
      assertThat(cb.invocations()).isEqualTo(1);
      assertThat(h.transport.exchanges()).hasSize(3); // warm-up, first, retry
      assertThat(h.events.attempts(path))
          .extracting(Attempt::kind, a -> a.endpoint().url().host(), Attempt::outcome)
          .containsExactly(
              tuple(Attempt.Kind.FIRST, A1, Outcome.CONNECT_FAILED),
              tuple(Attempt.Kind.RETRY, B1, Outcome.SUCCESS));
      assertThat(h.events.of(FailoverEvent.Hedge.class, path)).isEmpty();
      FailoverEvent.CallFinished end = h.events.awaitCallFinished(path);
      assertThat(end.status()).isEqualTo(200);
      assertThat(end.retries()).isEqualTo(1);
      assertThat(end.hedges()).isZero();
      assertThat(end.attempts()).isEqualTo(2);
    }
  }

  /** The backoff bound of the two tests below: a first retry waits 0 to 1 s. */
  private static final Duration BACKOFF = Duration.ofSeconds(1);

  /** When a call started, when its first attempt failed, and the backoff its retry drew. */
  private record FirstFailure(long started, long failedAt, long backoff) {}

  /**
   * Starts a GET and fails its first attempt (connection refused) at the instant that makes its
   * retry, with the backoff the client is about to draw, due {@code lateBy} nanoseconds after the
   * last instant a retry may start: the deadline less the minimum attempt time.
   */
  private static FirstFailure failFirstAttemptSoThatTheRetryIsLateBy(
      Harness h, String path, RecordingCallback cb, long lateBy) {
    long started = h.scheduler.now();
    h.enqueue(get(path), cb);
    Exchange first = h.transport.next();
    long backoff = h.predictFirstBackoff(BACKOFF);
    assertThat(backoff).isPositive();
    long failedAt = started + DEADLINE.toNanos() - MIN_ATTEMPT.toNanos() - backoff + lateBy;
    h.scheduler.advanceTo(failedAt);
    assertThat(cb.called()).isFalse();
    first.fail(new ConnectException("refused"));
    return new FirstFailure(started, failedAt, backoff);
  }

  /**
   * A retry whose backoff plus the minimum attempt time would end 1 ns after the deadline is not
   * scheduled: the call gives up there and then with DEADLINE_EXCEEDED, no later than the deadline,
   * and sends nothing more.
   */
  @Test
  void aRetryThatWouldPassTheDeadlineIsNeverSent() {
    try (Harness h = new Harness(b -> b.backoff(BACKOFF, BACKOFF))) {
      String path = "/race/retry-after-deadline";
      RecordingCallback cb = new RecordingCallback();
      FirstFailure f = failFirstAttemptSoThatTheRetryIsLateBy(h, path, cb, 1);

      FailoverException e = cb.awaitFailure();
      assertThat(e.reason()).isEqualTo(FailoverException.Reason.DEADLINE_EXCEEDED);
      assertThat(e.elapsed()).isEqualTo(Duration.ofNanos(f.failedAt() - f.started()));
      assertThat(e.getCause()).isInstanceOf(ConnectException.class);
      assertThat(e.attempts())
          .extracting(Attempt::kind, Attempt::outcome)
          .containsExactly(tuple(Attempt.Kind.FIRST, Outcome.CONNECT_FAILED));
      // The deadline timer went with the call.
      assertThat(h.scheduler.pendingOneShots()).isEmpty();

      h.scheduler.advanceTo(f.started() + DEADLINE.toNanos() + Duration.ofMinutes(1).toNanos());
      h.quiesce();
      assertThat(cb.invocations()).isEqualTo(1);
      assertThat(h.transport.exchanges()).hasSize(1);
      assertThat(h.events.of(FailoverEvent.RetryScheduled.class, path)).isEmpty();
      assertThat(h.client.snapshot().counters().retries()).isZero();
      FailoverEvent.CallFinished end = h.events.awaitCallFinished(path);
      assertThat(end.failure()).isEqualTo(FailoverException.Reason.DEADLINE_EXCEEDED);
      assertThat(end.attempts()).isEqualTo(1);
    }
  }

  /** The same call, 1 ns earlier: the retry fits exactly and is sent at its due instant. */
  @Test
  void aRetryThatExactlyFitsBeforeTheDeadlineIsSentWhenDue() {
    try (Harness h = new Harness(b -> b.backoff(BACKOFF, BACKOFF))) {
      String path = "/race/retry-just-fits";
      RecordingCallback cb = new RecordingCallback();
      FirstFailure f = failFirstAttemptSoThatTheRetryIsLateBy(h, path, cb, 0);
      long retryAt = f.failedAt() + f.backoff();

      assertThat(h.events.awaitRetry(path, 1).backoff()).isEqualTo(Duration.ofNanos(f.backoff()));
      h.scheduler.awaitOneShotAt(retryAt);
      h.scheduler.advanceTo(retryAt - 1);
      assertThat(h.client.snapshot().counters().attempts()).isEqualTo(1);
      h.scheduler.advanceTo(retryAt);
      assertThat(h.client.snapshot().counters().attempts()).isEqualTo(2);
      Exchange retry = h.transport.next();
      assertThat(retry.host()).isEqualTo(B1);
      retry.respond(200);
      assertThat(cb.awaitStatus()).isEqualTo(200);

      h.quiesce();
      assertThat(cb.invocations()).isEqualTo(1);
      assertThat(h.events.attempts(path))
          .extracting(Attempt::kind, Attempt::outcome, Attempt::startedAfter)
          .containsExactly(
              tuple(Attempt.Kind.FIRST, Outcome.CONNECT_FAILED, Duration.ZERO),
              tuple(Attempt.Kind.RETRY, Outcome.SUCCESS, Duration.ofNanos(retryAt - f.started())));
    }
  }

  /**
   * Whichever wins a hedge race, the loser is told as a hedge {@code CANCELLED} and counted: the
   * hedge the original beat as well as the original the hedge overtook. Before, only the second
   * was, so a hedge that lost to its original was sent and never ended in the events or meters.
   */
  @ParameterizedTest(name = "the hedge wins: {0}")
  @ValueSource(booleans = {false, true})
  void theLoserOfAHedgeRaceIsToldCancelledWhicheverWins(boolean hedgeWins) {
    try (Harness h = Harness.hedging()) {
      String path = "/race/hedge-loser-" + hedgeWins;
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(get(path), cb);
      Exchange first = h.transport.next();
      h.scheduler.advance(HEDGE_DELAY);
      Exchange hedge = h.transport.next();
      (hedgeWins ? hedge : first).respond(200);
      assertThat(cb.awaitStatus()).isEqualTo(200);
      h.quiesce();
      assertThat((hedgeWins ? first : hedge).cancelled()).isTrue();
      h.events.await(FailoverEvent.Hedge.class, hedgeWins ? 3 : 2, e -> path.equals(e.path()));
      assertThat(h.events.of(FailoverEvent.Hedge.class, path))
          .extracting(FailoverEvent.Hedge::action, e -> e.endpoint().url().host())
          .containsExactlyInAnyOrderElementsOf(
              hedgeWins
                  ? List.of(
                      tuple(FailoverEvent.HedgeAction.SENT, B1),
                      tuple(FailoverEvent.HedgeAction.WON, B1),
                      tuple(FailoverEvent.HedgeAction.CANCELLED, A1))
                  : List.of(
                      tuple(FailoverEvent.HedgeAction.SENT, B1),
                      tuple(FailoverEvent.HedgeAction.CANCELLED, B1)));
      assertThat(h.client.snapshot().counters().hedgesCancelled()).isEqualTo(1);
      assertThat(h.client.snapshot().counters().hedgesWon()).isEqualTo(hedgeWins ? 1 : 0);
    }
  }

  /** The deadline passes while the first attempt and its hedge are both in flight. */
  @Test
  void theDeadlineCancelsTheOriginalAndItsHedgeAndCallsBackOnce() {
    try (Harness h = Harness.hedging()) {
      String path = "/race/deadline-with-hedge";
      long t0 = h.scheduler.now();
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(get(path), cb);
      Exchange first = h.transport.next();
      h.scheduler.advance(HEDGE_DELAY);
      Exchange hedge = h.transport.next();
      assertThat(first.host()).isEqualTo(A1);
      assertThat(hedge.host()).isEqualTo(B1);
      // Events a timer caused are emitted off the scheduler's thread (here, the test's): wait.
      h.events.await(FailoverEvent.Hedge.class, 1, e -> path.equals(e.path()));
      assertThat(h.events.of(FailoverEvent.Hedge.class, path))
          .extracting(FailoverEvent.Hedge::action)
          .containsExactly(FailoverEvent.HedgeAction.SENT);

      h.scheduler.advanceTo(t0 + DEADLINE.toNanos() - 1);
      assertThat(cb.called()).isFalse();
      h.scheduler.advanceTo(t0 + DEADLINE.toNanos());

      FailoverException e = cb.awaitFailure();
      assertThat(e.reason()).isEqualTo(FailoverException.Reason.DEADLINE_EXCEEDED);
      assertThat(e.elapsed()).isEqualTo(DEADLINE);
      // Attempts still in flight at the deadline are cancelled, and listed as such.
      assertThat(e.attempts())
          .extracting(
              Attempt::kind, a -> a.endpoint().url().host(), Attempt::outcome, Attempt::error)
          .containsExactly(
              tuple(
                  Attempt.Kind.FIRST, A1, Outcome.CANCELLED, "in flight when the deadline passed"),
              tuple(
                  Attempt.Kind.HEDGE, B1, Outcome.CANCELLED, "in flight when the deadline passed"));
      // A callback a timer made due never runs on the thread that ran the timer (here, this one).
      assertThat(cb.threads()).singleElement().isNotEqualTo(Thread.currentThread().getName());

      h.quiesce();
      assertThat(first.cancelled()).isTrue();
      assertThat(hedge.cancelled()).isTrue();
      assertThat(cb.invocations()).isEqualTo(1);
      assertThat(h.transport.exchanges()).hasSize(3);
      assertThat(h.events.attempts(path))
          .extracting(Attempt::kind, a -> a.endpoint().url().host(), Attempt::outcome)
          .containsExactlyInAnyOrder(
              tuple(Attempt.Kind.FIRST, A1, Outcome.CANCELLED),
              tuple(Attempt.Kind.HEDGE, B1, Outcome.CANCELLED));
      assertThat(h.events.of(FailoverEvent.CallFinished.class, path))
          .singleElement()
          .satisfies(
              end -> {
                assertThat(end.failure()).isEqualTo(FailoverException.Reason.DEADLINE_EXCEEDED);
                assertThat(end.attempts()).isEqualTo(2);
                assertThat(end.hedges()).isEqualTo(1);
                assertThat(end.status()).isZero();
              });
    }
  }

  /**
   * OkHttp has accepted the first attempt's 200 but not yet handed it to the client when the
   * deadline ends the call. The late response is closed and the caller hears only the deadline.
   */
  @Test
  void aResponseArrivingAfterTheDeadlineIsClosedAndNotDelivered() {
    try (Harness h = new Harness()) {
      String path = "/race/late-response";
      long t0 = h.scheduler.now();
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(get(path), cb);
      Exchange first = h.transport.next();
      h.scheduler.advance(Duration.ofSeconds(30));
      first.respondAndHoldDelivery(200);
      first.awaitDeliveryHeld();

      h.scheduler.advanceTo(t0 + DEADLINE.toNanos());
      FailoverException e = cb.awaitFailure();
      assertThat(e.reason()).isEqualTo(FailoverException.Reason.DEADLINE_EXCEEDED);

      first.resume();
      Attempt late = h.events.awaitAttempt(path, 1);
      assertThat(late.kind()).isEqualTo(Attempt.Kind.FIRST);

      h.quiesce();
      assertThat(first.body().closed()).as("the late response's body is closed").isTrue();
      assertThat(cb.invocations()).isEqualTo(1);
      assertThat(h.events.of(FailoverEvent.CallFinished.class, path))
          .singleElement()
          .extracting(FailoverEvent.CallFinished::failure)
          .isEqualTo(FailoverException.Reason.DEADLINE_EXCEEDED);
      assertThat(h.events.attempts(path)).hasSize(1);
      assertThat(h.transport.exchanges()).hasSize(1);
    }
  }
}

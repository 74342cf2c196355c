package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The order in which listeners are told of state changes emitted on different threads. */
class EventsOrderTest {

  private static final Locality ZONE = Locality.of("us-east-1", "us-east-1b");

  @Test
  void aStateChangeToldOnAnotherThreadWaitsForTheSchedulersEventsBeforeIt() {
    List<String> told = new CopyOnWriteArrayList<>();
    FailoverListener listener =
        new FailoverListener() {
          @Override
          public void onZoneEvacuated(FailoverEvent.ZoneEvacuated e) {
            told.add("evacuated");
          }

          @Override
          public void onZoneRestored(FailoverEvent.ZoneRestored e) {
            told.add("restored");
          }
        };
    Events events = new Events(List.of(listener));
    ArrayDeque<Runnable> dispatcher = new ArrayDeque<>(); // runs only when the test says
    events.tellOffSchedulerOn(dispatcher::add);

    // Zone judgement on the scheduler evacuates the zone: told on the dispatcher, not yet run.
    Events.schedulerTask(
            () -> events.emit(new FailoverEvent.ZoneEvacuated("directory", ZONE, "error rate")))
        .run();
    assertThat(told).isEmpty();
    // A last resort that succeeded there restores it at once, on the attempt's thread. Before,
    // it was told there and then: a listener heard "restored", then "evacuated", and believed
    // the zone out.
    events.emit(new FailoverEvent.ZoneRestored("directory", ZONE, Duration.ofSeconds(1)));
    assertThat(told).isEmpty();

    while (!dispatcher.isEmpty()) {
      dispatcher.poll().run();
    }
    assertThat(told).containsExactly("evacuated", "restored");
  }
}

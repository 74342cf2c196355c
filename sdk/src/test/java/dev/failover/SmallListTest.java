package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.ConcurrentModificationException;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The list of a call's attempts: a list like any other, in order, at any size. */
class SmallListTest {

  @Test
  void behavesAsAnArrayListWhateverItsSize() {
    Random random = new Random(5);
    for (int run = 0; run < 300; run++) {
      List<String> small = new SmallList<>();
      List<String> reference = new ArrayList<>();
      int ops = random.nextInt(40);
      for (int i = 0; i < ops; i++) {
        // Equal but not the same strings: removal and lookup are by equals.
        String e = new String("attempt-" + random.nextInt(8));
        switch (random.nextInt(5)) {
          case 0, 1 -> assertThat(small.add(e)).isEqualTo(reference.add(e));
          case 2 -> assertThat(small.remove(e)).as("remove %s", e).isEqualTo(reference.remove(e));
          case 3 -> {
            if (!reference.isEmpty()) {
              int at = random.nextInt(reference.size());
              assertThat(small.remove(at)).isEqualTo(reference.remove(at));
            }
          }
          default -> {
            if (!reference.isEmpty()) {
              int at = random.nextInt(reference.size());
              assertThat(small.set(at, e)).isEqualTo(reference.set(at, e));
            }
          }
        }
        assertThat(small).as("after %d operations", i + 1).containsExactlyElementsOf(reference);
        assertThat(small).hasSize(reference.size());
        assertThat(small.isEmpty()).isEqualTo(reference.isEmpty());
      }
      for (int i = 0; i < 8; i++) {
        String e = "attempt-" + i;
        assertThat(small.indexOf(e)).isEqualTo(reference.indexOf(e));
        assertThat(small.contains(e)).isEqualTo(reference.contains(e));
      }
      assertThat(small).isEqualTo(reference);
      assertThat(small.hashCode()).isEqualTo(reference.hashCode());
      small.clear();
      assertThat(small).isEmpty();
      assertThat(small.add("attempt-1")).isTrue();
      assertThat(small).containsExactly("attempt-1");
    }
  }

  @Test
  void outOfRangeAndNullAreRefusedAndAChangeUnderAnIteratorIsSeen() {
    List<Integer> list = new SmallList<>();
    list.addAll(List.of(1, 2, 3));
    assertThatThrownBy(() -> list.get(3)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> list.get(-1)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> list.remove(3)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> list.add(null)).isInstanceOf(NullPointerException.class);
    assertThat(list.remove((Object) 9)).isFalse();
    Iterator<Integer> it = list.iterator();
    it.next();
    list.add(4);
    assertThatThrownBy(it::next).isInstanceOf(ConcurrentModificationException.class);
    assertThat(list).containsExactly(1, 2, 3, 4);
  }
}

package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The set of what a call tried: a set like any other, in order of addition, at any size. */
class SmallSetTest {

  @Test
  void behavesAsALinkedHashSetWhateverItsSize() {
    Random random = new Random(3);
    for (int run = 0; run < 200; run++) {
      Set<String> small = new SmallSet<>();
      Set<String> reference = new LinkedHashSet<>();
      int adds = random.nextInt(20);
      for (int i = 0; i < adds; i++) {
        // Equal but not the same strings: membership is by equals.
        String e = new String("zone-" + random.nextInt(12));
        assertThat(small.add(e)).as("add %s to %s", e, reference).isEqualTo(reference.add(e));
        assertThat(small).hasSize(reference.size());
      }
      assertThat(new ArrayList<>(small)).containsExactlyElementsOf(reference);
      for (int i = 0; i < 12; i++) {
        assertThat(small.contains("zone-" + i)).isEqualTo(reference.contains("zone-" + i));
      }
      assertThat(small.contains(null)).isFalse();
      assertThat(small).isEqualTo(reference);
      assertThat(small.hashCode()).isEqualTo(reference.hashCode());
      // Cleared (a call's new round of tried endpoints), it is empty and fills again.
      small.clear();
      assertThat(small).isEmpty();
      assertThat(small.contains("zone-" + random.nextInt(12))).isFalse();
      assertThat(small.add("zone-1")).isTrue();
      assertThat(small.add("zone-1")).isFalse();
      assertThat(small).containsExactly("zone-1");
    }
  }

  @Test
  void anIteratorPastTheEndThrows() {
    Set<Integer> set = new SmallSet<>();
    set.addAll(List.of(1, 2, 3));
    Iterator<Integer> it = set.iterator();
    assertThat(List.of(it.next(), it.next(), it.next())).containsExactly(1, 2, 3);
    assertThat(it.hasNext()).isFalse();
    assertThatThrownBy(it::next).isInstanceOf(NoSuchElementException.class);
    assertThat(new SmallSet<Integer>().iterator().hasNext()).isFalse();
  }
}

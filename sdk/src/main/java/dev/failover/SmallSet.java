package dev.failover;

import java.util.AbstractSet;
import java.util.Iterator;
import org.jspecify.annotations.Nullable;

/**
 * A set of a few elements, compared with {@code equals}: what a call has tried (its endpoints, its
 * zones) holds one to three elements, where a {@code HashSet} costs a map, a table and a node per
 * element. Held in a {@link SmallList} in order of addition (two fields, then an array); linear
 * lookups; not thread-safe (the call's lock guards it). A call makes its two only when it tries a
 * second endpoint.
 */
final class SmallSet<T> extends AbstractSet<T> {
  private final SmallList<T> elements = new SmallList<>();

  @Override
  public boolean add(T element) {
    if (elements.contains(element)) {
      return false;
    }
    return elements.add(element);
  }

  @Override
  public boolean contains(@Nullable Object o) {
    return elements.contains(o);
  }

  @Override
  public int size() {
    return elements.size();
  }

  @Override
  public void clear() {
    elements.clear();
  }

  @Override
  public Iterator<T> iterator() {
    return elements.iterator();
  }
}

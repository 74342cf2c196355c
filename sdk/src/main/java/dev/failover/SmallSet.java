package dev.failover;

import java.util.AbstractSet;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import org.jspecify.annotations.Nullable;

/**
 * A set of a few elements in an array, compared with {@code equals}: what a call has tried (its
 * endpoints, its zones) holds one to three elements, where a {@code HashSet} costs a map, a table
 * and a node per element on every call. Linear lookups; not thread-safe (the call's lock guards
 * it).
 */
final class SmallSet<T> extends AbstractSet<T> {
  private @Nullable Object[] elements = new Object[4];
  private int size;

  @Override
  public boolean add(T element) {
    if (contains(element)) {
      return false;
    }
    if (size == elements.length) {
      elements = Arrays.copyOf(elements, size * 2);
    }
    elements[size++] = element;
    return true;
  }

  @Override
  public boolean contains(@Nullable Object o) {
    for (int i = 0; i < size; i++) {
      if (java.util.Objects.equals(elements[i], o)) {
        return true;
      }
    }
    return false;
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public Iterator<T> iterator() {
    return new Iterator<T>() {
      private int next;

      @Override
      public boolean hasNext() {
        return next < size;
      }

      @Override
      @SuppressWarnings("unchecked")
      public T next() {
        if (next >= size) {
          throw new NoSuchElementException();
        }
        return (T) elements[next++];
      }
    };
  }
}

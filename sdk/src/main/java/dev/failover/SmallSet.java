package dev.failover;

import java.util.AbstractSet;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A set of a few elements, compared with {@code equals}: what a call has tried (its endpoints, its
 * zones) holds one to three elements, where a {@code HashSet} costs a map, a table and a node per
 * element on every call. The first two elements are held in fields, so a call with at most two
 * attempts allocates nothing but the set; an array holds the rest. Linear lookups; not thread-safe
 * (the call's lock guards it).
 */
final class SmallSet<T> extends AbstractSet<T> {
  private static final @Nullable Object[] NONE = new Object[0];

  private @Nullable Object first;
  private @Nullable Object second;

  /** The elements from the third on, in order of addition; shared and empty until a third. */
  private @Nullable Object[] more = NONE;

  private int size;

  @Override
  public boolean add(T element) {
    if (contains(element)) {
      return false;
    }
    if (size == 0) {
      first = element;
    } else if (size == 1) {
      second = element;
    } else {
      int i = size - 2;
      if (i == more.length) {
        more = Arrays.copyOf(more, Math.max(4, i * 2));
      }
      more[i] = element;
    }
    size++;
    return true;
  }

  @Override
  public boolean contains(@Nullable Object o) {
    for (int i = 0; i < size; i++) {
      if (Objects.equals(get(i), o)) {
        return true;
      }
    }
    return false;
  }

  private @Nullable Object get(int i) {
    return i == 0 ? first : i == 1 ? second : more[i - 2];
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public void clear() {
    first = null;
    second = null;
    if (size > 2) {
      Arrays.fill(more, 0, size - 2, null);
    }
    size = 0;
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
        return (T) Objects.requireNonNull(get(next++)); // below size: an element
      }
    };
  }
}

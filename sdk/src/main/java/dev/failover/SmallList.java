package dev.failover;

import java.util.AbstractList;
import java.util.Arrays;
import java.util.Objects;
import java.util.RandomAccess;
import org.jspecify.annotations.Nullable;

/**
 * A list of a few elements: a call's attempts in flight and ended (one or two on almost every
 * call), where an {@code ArrayList} costs the list and an array. The first two elements are held in
 * fields, so a call with at most two attempts allocates nothing but the list; an array holds the
 * rest. {@link #remove(Object)} and {@link #indexOf} compare with {@code equals}, as a list does.
 * Not thread-safe (the call's lock guards it).
 */
final class SmallList<T> extends AbstractList<T> implements RandomAccess {
  private static final @Nullable Object[] NONE = new Object[0];

  private @Nullable Object first;
  private @Nullable Object second;

  /** The elements from the third on, in order; shared and empty until a third. */
  private @Nullable Object[] more = NONE;

  private int size;

  @Override
  @SuppressWarnings("unchecked") // only Ts go in
  public T get(int index) {
    Objects.checkIndex(index, size);
    return (T) Objects.requireNonNull(at(index));
  }

  private @Nullable Object at(int i) {
    return i == 0 ? first : i == 1 ? second : more[i - 2];
  }

  private void put(int i, @Nullable Object element) {
    if (i == 0) {
      first = element;
    } else if (i == 1) {
      second = element;
    } else {
      more[i - 2] = element;
    }
  }

  @Override
  public T set(int index, T element) {
    T old = get(index);
    put(index, Objects.requireNonNull(element, "element"));
    return old;
  }

  @Override
  public boolean add(T element) {
    Objects.requireNonNull(element, "element");
    int i = size - 2;
    if (i >= 0 && i == more.length) {
      more = Arrays.copyOf(more, Math.max(4, i * 2));
    }
    put(size, element);
    size++;
    modCount++;
    return true;
  }

  @Override
  public T remove(int index) {
    T removed = get(index);
    for (int i = index; i < size - 1; i++) {
      put(i, at(i + 1));
    }
    size--;
    put(size, null);
    modCount++;
    return removed;
  }

  @Override
  public boolean remove(@Nullable Object o) {
    int i = indexOf(o);
    if (i < 0) {
      return false;
    }
    remove(i);
    return true;
  }

  @Override
  public int indexOf(@Nullable Object o) {
    for (int i = 0; i < size; i++) {
      if (Objects.equals(at(i), o)) {
        return i;
      }
    }
    return -1;
  }

  @Override
  public boolean contains(@Nullable Object o) {
    return indexOf(o) >= 0;
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
    modCount++;
  }
}

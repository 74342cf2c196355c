package dev.failover;

import org.jspecify.annotations.Nullable;

/**
 * What an attempt's OkHttp request carries, as a tag, when the client has a {@link CallObserver}.
 *
 * @param callContext what {@link CallObserver#callStarted} returned for the attempt's call
 * @param kind first attempt, retry, hedge or probe
 * @param number the attempt's number within its call, from 1
 * @param endpoint where the attempt goes
 */
record AttemptContext(
    @Nullable Object callContext, Attempt.Kind kind, int number, Endpoint endpoint) {}

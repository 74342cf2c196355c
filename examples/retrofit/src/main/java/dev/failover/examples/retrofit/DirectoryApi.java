package dev.failover.examples.retrofit;

import dev.failover.RequestOptions;
import retrofit2.Call;
import retrofit2.http.GET;
import retrofit2.http.Path;
import retrofit2.http.Tag;

/** The directory service's API as a Retrofit interface; nothing in it knows about failover. */
public interface DirectoryApi {

  /**
   * Reads one user.
   *
   * @param id the user's id
   * @return the call, answering the user as JSON text
   */
  @GET("api/v1/users/{id}")
  Call<String> user(@Path("id") String id);

  /**
   * Reads one user with per-call options, such as a shorter deadline.
   *
   * @param id the user's id
   * @param options the SDK's options for this call, passed to it as a request tag
   * @return the call
   */
  @GET("api/v1/users/{id}")
  Call<String> user(@Path("id") String id, @Tag RequestOptions options);
}

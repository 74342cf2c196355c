package dev.failover.examples.retrofit;

import dev.failover.FailoverClient;
import dev.failover.HealthCheck;
import java.time.Duration;
import retrofit2.Retrofit;
import retrofit2.converter.scalars.ScalarsConverterFactory;

/**
 * A Retrofit interface over a {@link FailoverClient}: the client is an {@code
 * okhttp3.Call.Factory}, so Retrofit takes it as its call factory, and the base URL names the
 * service, not a host.
 */
public final class RetrofitExample {
  private RetrofitExample() {}

  /**
   * Builds the directory's failover client over three endpoints in two regions.
   *
   * @param dirA an endpoint in us-east-1a (home)
   * @param dirB an endpoint in us-east-1b
   * @param dirW an endpoint in us-west-2a
   * @return the client; close it when done
   */
  public static FailoverClient directoryClient(String dirA, String dirB, String dirW) {
    // region client
    return FailoverClient.builder()
        .service("directory")
        .home("us-east-1", "us-east-1a")
        .endpoint(dirA, "us-east-1", "us-east-1a")
        .endpoint(dirB, "us-east-1", "us-east-1b")
        .endpoint(dirW, "us-west-2", "us-west-2a")
        .healthCheck(HealthCheck.http("/health"))
        .deadline(Duration.ofSeconds(2))
        .build();
    // endregion
  }

  /**
   * Creates the Retrofit interface on top of {@code directory}.
   *
   * @param directory the failover client
   * @return the API
   */
  public static DirectoryApi api(FailoverClient directory) {
    // region retrofit
    Retrofit retrofit =
        new Retrofit.Builder()
            .baseUrl("http://directory/") // the service name: each attempt goes to an endpoint
            .callFactory(directory)
            .addConverterFactory(ScalarsConverterFactory.create())
            .build();
    return retrofit.create(DirectoryApi.class);
    // endregion
  }
}

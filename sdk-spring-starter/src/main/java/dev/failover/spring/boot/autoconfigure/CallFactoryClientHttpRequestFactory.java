package dev.failover.spring.boot.autoconfigure;

import dev.failover.RequestOptions;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import okhttp3.Call;
import okhttp3.MediaType;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.client.AbstractBufferingClientHttpRequest;
import org.springframework.http.client.ClientHttpRequest;
import org.springframework.http.client.ClientHttpRequestFactory;
import org.springframework.http.client.ClientHttpResponse;

/**
 * A {@link ClientHttpRequestFactory} over any {@link okhttp3.Call.Factory}, such as a {@link
 * dev.failover.FailoverClient}; Spring Framework 7 has none for OkHttp.
 *
 * <p>Request bodies are buffered, so that the failover client may send them again on a retry.
 * {@code Host}, {@code Content-Length}, {@code Transfer-Encoding} and {@code Connection} headers
 * are left to OkHttp. A {@link RequestOptions} given as the request attribute {@link
 * #REQUEST_OPTIONS_ATTRIBUTE} (with {@code RestClient}'s {@code .attribute(name, value)}) is passed
 * to the call, to mark a POST idempotent or give one call its own deadline:
 *
 * <pre>{@code
 * restClient.post().uri("/users")
 *     .attribute(CallFactoryClientHttpRequestFactory.REQUEST_OPTIONS_ATTRIBUTE,
 *         RequestOptions.markIdempotent())
 *     .body(user)
 *     .retrieve()
 *     .toBodilessEntity();
 * }</pre>
 */
public final class CallFactoryClientHttpRequestFactory implements ClientHttpRequestFactory {

  /** The request attribute that carries a {@link RequestOptions}. */
  public static final String REQUEST_OPTIONS_ATTRIBUTE = RequestOptions.class.getName();

  private static final Set<String> SKIPPED_HEADERS =
      Set.of("host", "content-length", "transfer-encoding", "connection");

  private final Call.Factory callFactory;

  /**
   * Creates a factory whose requests run on {@code callFactory}.
   *
   * @param callFactory for example a {@link dev.failover.FailoverClient}
   */
  public CallFactoryClientHttpRequestFactory(Call.Factory callFactory) {
    this.callFactory = Objects.requireNonNull(callFactory, "callFactory");
  }

  @Override
  public ClientHttpRequest createRequest(URI uri, HttpMethod httpMethod) {
    return new CallRequest(callFactory, uri, httpMethod);
  }

  private static final class CallRequest extends AbstractBufferingClientHttpRequest {
    private final Call.Factory callFactory;
    private final URI uri;
    private final HttpMethod method;

    CallRequest(Call.Factory callFactory, URI uri, HttpMethod method) {
      this.callFactory = callFactory;
      this.uri = uri;
      this.method = method;
    }

    @Override
    public HttpMethod getMethod() {
      return method;
    }

    @Override
    public URI getURI() {
      return uri;
    }

    @Override
    protected ClientHttpResponse executeInternal(HttpHeaders headers, byte[] content)
        throws IOException {
      Request.Builder builder = new Request.Builder().url(uri.toString());
      headers.forEach(
          (name, values) -> {
            if (!SKIPPED_HEADERS.contains(name.toLowerCase(Locale.ROOT))) {
              for (String value : values) {
                builder.addHeader(name, value);
              }
            }
          });
      String method = this.method.name();
      RequestBody body = null;
      if (content.length > 0 || requiresBody(method)) {
        org.springframework.http.MediaType contentType = headers.getContentType();
        MediaType mediaType = contentType == null ? null : MediaType.parse(contentType.toString());
        body = RequestBody.create(content, mediaType);
      }
      builder.method(method, body);
      Object options = getAttributes().get(REQUEST_OPTIONS_ATTRIBUTE);
      if (options instanceof RequestOptions requestOptions) {
        builder.tag(RequestOptions.class, requestOptions);
      }
      return new CallResponse(callFactory.newCall(builder.build()).execute());
    }

    private static boolean requiresBody(String method) {
      return method.equals("POST")
          || method.equals("PUT")
          || method.equals("PATCH")
          || method.equals("PROPPATCH")
          || method.equals("REPORT");
    }
  }

  private static final class CallResponse implements ClientHttpResponse {
    private final Response response;
    private @Nullable HttpHeaders headers;

    CallResponse(Response response) {
      this.response = response;
    }

    @Override
    public HttpStatusCode getStatusCode() {
      return HttpStatusCode.valueOf(response.code());
    }

    @Override
    public String getStatusText() {
      return response.message();
    }

    @Override
    public HttpHeaders getHeaders() {
      HttpHeaders h = headers;
      if (h == null) {
        h = new HttpHeaders();
        for (String name : response.headers().names()) {
          h.addAll(name, response.headers(name));
        }
        headers = h;
      }
      return h;
    }

    @Override
    public InputStream getBody() {
      ResponseBody body = response.body();
      return body.byteStream();
    }

    @Override
    public void close() {
      response.close();
    }
  }
}

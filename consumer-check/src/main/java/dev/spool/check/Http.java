package dev.spool.check;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/** Plain HTTP GETs with the JDK's HttpURLConnection: the consumer declares no HTTP client. */
final class Http {
  private Http() {}

  /** The body of a GET of {@code uri}; anything but 200 is a failure naming the status. */
  static String get(URI uri) throws IOException {
    HttpURLConnection connection = (HttpURLConnection) uri.toURL().openConnection();
    connection.setConnectTimeout(10_000);
    connection.setReadTimeout(30_000);
    try {
      int status = connection.getResponseCode();
      InputStream in = status < 400 ? connection.getInputStream() : connection.getErrorStream();
      String body = in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
      ConsumerCheck.require(status == 200, "GET " + uri + " answers 200, got " + status + ": " + body);
      return body;
    } finally {
      connection.disconnect();
    }
  }
}

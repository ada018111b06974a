package dev.spool.check;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;

/** The consumers' own PostgreSQL housekeeping: each uses a schema of its own and drops it. */
final class Postgres {
  private Postgres() {}

  /** Drops {@code schema} and everything in it, if it exists (a leftover of an aborted run, too). */
  static void dropSchema(DataSource dataSource, String schema) throws SQLException {
    try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
      s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    }
  }
}

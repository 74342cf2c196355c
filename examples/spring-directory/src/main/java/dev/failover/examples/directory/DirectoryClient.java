package dev.failover.examples.directory;

import java.util.List;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.service.annotation.GetExchange;
import org.springframework.web.service.annotation.HttpExchange;

/**
 * The directory service's HTTP API. It is in the HTTP service group {@code directory}, so the
 * starter routes it through the failover client configured under {@code
 * failover.clients.directory}.
 */
@HttpExchange
public interface DirectoryClient {

  /**
   * Returns one user.
   *
   * @param id the user id
   * @return the user
   */
  @GetExchange("/users/{id}")
  User user(@PathVariable String id);

  /**
   * Returns the groups a user belongs to.
   *
   * @param id the user id
   * @return the groups
   */
  @GetExchange("/users/{id}/groups")
  List<Group> groupsOf(@PathVariable String id);

  /**
   * Returns one group.
   *
   * @param id the group id
   * @return the group
   */
  @GetExchange("/groups/{id}")
  Group group(@PathVariable String id);

  /**
   * A user of the directory.
   *
   * @param id the id
   * @param name the display name
   * @param email the e-mail address
   */
  record User(String id, String name, String email) {}

  /**
   * A group of the directory.
   *
   * @param id the id
   * @param name the name
   */
  record Group(String id, String name) {}
}

package dev.failover.examples.directory;

import java.util.List;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

/** Serves profiles built from two directory calls, each of which fails over between zones. */
@RestController
class DirectoryController {
  private final DirectoryClient directory;

  DirectoryController(DirectoryClient directory) {
    this.directory = directory;
  }

  @GetMapping("/api/users/{id}")
  DirectoryClient.User user(@PathVariable String id) {
    return directory.user(id);
  }

  @GetMapping("/api/users/{id}/profile")
  Profile profile(@PathVariable String id) {
    return new Profile(directory.user(id), directory.groupsOf(id));
  }

  @GetMapping("/api/groups/{id}")
  DirectoryClient.Group group(@PathVariable String id) {
    return directory.group(id);
  }

  /**
   * A user with their groups.
   *
   * @param user the user
   * @param groups the user's groups
   */
  record Profile(DirectoryClient.User user, List<DirectoryClient.Group> groups) {}
}

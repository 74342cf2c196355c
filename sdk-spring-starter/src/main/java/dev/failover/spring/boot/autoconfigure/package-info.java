/**
 * Spring Boot auto-configuration for the Failover SDK: {@code failover.*} properties, one {@link
 * dev.failover.FailoverClient} bean per configured client, a {@link
 * org.springframework.web.client.RestClient} and HTTP service group per client, and, when present,
 * Actuator health and endpoint and Micrometer meters.
 */
@NullMarked
package dev.failover.spring.boot.autoconfigure;

import org.jspecify.annotations.NullMarked;

/**
 * An {@link dev.failover.EndpointSource} that follows the instances of a service registered in
 * ZooKeeper through Apache Curator service discovery: {@link
 * dev.failover.discovery.zookeeper.ZooKeeperEndpointSource}.
 */
@NullMarked
package dev.failover.discovery.zookeeper;

import org.jspecify.annotations.NullMarked;

/*
 * nfq-delay: holds every packet of one NFQUEUE for a fixed time, then accepts it, in order.
 *
 * The lab's stand-in for `tc qdisc ... netem delay`, which this machine's kernel lacks
 * (CONFIG_NET_SCH_NETEM is not set, and neither is fq, so no EDT delay from BPF either). Run it
 * in a network namespace whose iptables rules send packets to the queue (see lab.sh): packets
 * really wait in the kernel, SYNs and ACKs included, until this process gives the verdict at
 * arrival + delay (an absolute CLOCK_MONOTONIC deadline, slept with ppoll). lab.sh runs it with
 * SCHED_FIFO so that busy loops on the client's side of the machine do not delay it.
 *
 *   nfq-delay QUEUE_NUM DELAY_US
 *
 * Prints, on SIGTERM/SIGINT, the packets it held and how late its verdicts were (max, mean).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h> /* NF_ACCEPT */
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define RING 65536

static uint32_t ids[RING];
static int64_t due[RING];
static unsigned head, tail; /* pending = tail - head */
static int64_t delay_ns;
static volatile sig_atomic_t stop;
static uint64_t held, late_sum_ns;
static int64_t late_max_ns;

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *m, struct nfq_data *d, void *u) {
  (void)m; (void)u;
  struct nfqnl_msg_packet_hdr *h = nfq_get_msg_packet_hdr(d);
  uint32_t id = ntohl(h->packet_id);
  if (tail - head >= RING) { /* never expected: accept at once rather than lose it */
    nfq_set_verdict(qh, id, NF_ACCEPT, 0, NULL);
    return 0;
  }
  ids[tail % RING] = id;
  due[tail % RING] = now_ns() + delay_ns;
  tail++;
  return 0;
}

static void on_signal(int s) { (void)s; stop = 1; }

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s QUEUE_NUM DELAY_US\n", argv[0]);
    return 2;
  }
  int qnum = atoi(argv[1]);
  delay_ns = atoll(argv[2]) * 1000LL;
  struct nfq_handle *nh = nfq_open();
  if (!nh) { perror("nfq_open"); return 1; }
  nfq_unbind_pf(nh, AF_INET);
  if (nfq_bind_pf(nh, AF_INET) < 0) { perror("nfq_bind_pf"); return 1; }
  struct nfq_q_handle *qh = nfq_create_queue(nh, qnum, &on_packet, NULL);
  if (!qh) { perror("nfq_create_queue"); return 1; }
  if (nfq_set_mode(qh, NFQNL_COPY_META, 0) < 0) { perror("nfq_set_mode"); return 1; }
  nfq_set_queue_maxlen(qh, RING / 2);
  int fd = nfq_fd(nh);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  char buf[65536] __attribute__((aligned));
  fprintf(stderr, "nfq-delay: queue %d, delay %lld us\n", qnum, (long long)(delay_ns / 1000));
  while (!stop) {
    int64_t now = now_ns();
    while (head != tail && due[head % RING] <= now) {
      int64_t late = now - due[head % RING];
      if (late > late_max_ns) late_max_ns = late;
      late_sum_ns += late;
      held++;
      nfq_set_verdict(qh, ids[head % RING], NF_ACCEPT, 0, NULL);
      head++;
    }
    struct timespec ts, *tp = NULL;
    if (head != tail) {
      int64_t wait = due[head % RING] - now_ns();
      if (wait < 0) wait = 0;
      ts.tv_sec = wait / 1000000000LL;
      ts.tv_nsec = wait % 1000000000LL;
      tp = &ts;
    }
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = ppoll(&p, 1, tp, NULL);
    if (r < 0 && errno != EINTR) { perror("ppoll"); break; }
    if (r > 0) {
      /* drain what is there without blocking */
      for (;;) {
        int n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0) {
          if (errno == ENOBUFS) { fprintf(stderr, "nfq-delay: ENOBUFS (packets lost)\n"); continue; }
          break;
        }
        nfq_handle_packet(nh, buf, n);
      }
    }
  }
  /* let whatever is still held go */
  while (head != tail) nfq_set_verdict(qh, ids[head++ % RING], NF_ACCEPT, 0, NULL);
  fprintf(stderr, "nfq-delay: queue %d held %llu packets, verdicts late by max %.3f ms, mean %.3f ms\n",
          qnum, (unsigned long long)held, late_max_ns / 1e6, held ? late_sum_ns / 1e6 / held : 0.0);
  nfq_destroy_queue(qh);
  nfq_close(nh);
  return 0;
}

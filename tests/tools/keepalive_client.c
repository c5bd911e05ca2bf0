/* The client of seed report 002 (docs/cases/field-reports/seed-002.txt), shaped like its
 * simple-tcp-socket/client.c: connect, one exchange, then block in recv() on an idle
 * connection with SO_KEEPALIVE and TCP_USER_TIMEOUT set, and say how recv() ended.
 *
 *   tapfault_keepalive_client HOST PORT [--keepidle S] [--keepintvl S] [--keepcnt N]
 *                             [--user-timeout MS] [--send TEXT]
 *
 * stdout, one line per step: "connected", "sent N", "received N", then
 * "recv: 0 (peer closed)" or "recv: ETIMEDOUT (Connection timed out)". Exit code 0 when
 * recv() ended with an error or end of file, 2 on bad arguments, 1 when a step before the
 * blocking recv() failed. tcp(7) names the options; tcp_keepalive_timer() applies them. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int usage(void) {
  fprintf(stderr,
          "usage: tapfault_keepalive_client HOST PORT [--keepidle S] [--keepintvl S] [--keepcnt N]\n"
          "                                 [--user-timeout MS] [--send TEXT]\n");
  return 2;
}

static int set_int(int fd, int level, int name, const char* label, int value) {
  if (setsockopt(fd, level, name, &value, sizeof value) == 0) return 0;
  printf("setsockopt %s %d: %s\n", label, value, strerror(errno));
  return -1;
}

int main(int argc, char** argv) {
  if (argc < 3) return usage();
  int keepidle = 0, keepintvl = 0, keepcnt = 0, user_timeout = 0;
  const char* text = "hello\n";
  for (int i = 3; i < argc; i += 2) {
    if (i + 1 >= argc) return usage();
    if (strcmp(argv[i], "--keepidle") == 0) keepidle = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--keepintvl") == 0) keepintvl = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--keepcnt") == 0) keepcnt = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--user-timeout") == 0) user_timeout = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--send") == 0) text = argv[i + 1];
    else return usage();
  }
  setvbuf(stdout, NULL, _IOLBF, 0);

  struct addrinfo hints, *ai = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  int rc = getaddrinfo(argv[1], argv[2], &hints, &ai);
  if (rc != 0) {
    fprintf(stderr, "%s port %s: %s\n", argv[1], argv[2], gai_strerror(rc));
    return 2;
  }
  int fd = socket(ai->ai_family, SOCK_STREAM, 0);
  if (fd < 0) {
    printf("socket: %s\n", strerror(errno));
    return 1;
  }
  if (set_int(fd, SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE", 1) != 0) return 1;
  if (keepidle && set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, "TCP_KEEPIDLE", keepidle) != 0) return 1;
  if (keepintvl && set_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, "TCP_KEEPINTVL", keepintvl) != 0) return 1;
  if (keepcnt && set_int(fd, IPPROTO_TCP, TCP_KEEPCNT, "TCP_KEEPCNT", keepcnt) != 0) return 1;
  if (user_timeout && set_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, "TCP_USER_TIMEOUT", user_timeout) != 0) return 1;
  if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
    printf("connect: %s\n", strerror(errno));
    return 1;
  }
  freeaddrinfo(ai);
  printf("connected\n");
  size_t len = strlen(text);
  ssize_t n = send(fd, text, len, 0);
  if (n < 0) {
    printf("send: %s\n", strerror(errno));
    return 1;
  }
  printf("sent %zd\n", n);
  char buf[512];
  n = recv(fd, buf, sizeof buf, 0);
  if (n <= 0) {
    printf("recv: %s\n", n == 0 ? "0 (peer closed)" : strerror(errno));
    return 1;
  }
  printf("received %zd\n", n);
  /* The idle connection: only keepalive probes cross it now. */
  n = recv(fd, buf, sizeof buf, 0);
  if (n > 0) {
    printf("received %zd\n", n);
    return 1;
  }
  if (n == 0) printf("recv: 0 (peer closed)\n");
  else printf("recv: %s (%s)\n", strerrorname_np(errno) ? strerrorname_np(errno) : "?", strerror(errno));
  close(fd);
  return 0;
}

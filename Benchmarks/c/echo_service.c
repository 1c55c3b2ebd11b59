/* A native Nex service for tests and benchmarks: a NATS responder in plain C (static, no libraries).
 * Connects to $NATS_URL (nats://host:port), subscribes $ECHO_SUBJECT (default svc.echo) and answers
 * every request with its payload, prefixed by $ECHO_PREFIX when set. Prints its start, the value of
 * $ECHO_GREETING and a line on stderr, so logs and the environment can be checked. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int send_all(int fd, const char *data, size_t length) {
    while (length > 0) {
        ssize_t n = write(fd, data, length);
        if (n <= 0) return -1;
        data += n;
        length -= (size_t)n;
    }
    return 0;
}

static int connect_to(const char *url) {
    char host[256] = "127.0.0.1", port[16] = "4222";
    if (url && strncmp(url, "nats://", 7) == 0) url += 7;
    if (url && *url) {
        const char *colon = strrchr(url, ':');
        size_t host_length = colon ? (size_t)(colon - url) : strlen(url);
        if (host_length >= sizeof host) return -1;
        memcpy(host, url, host_length);
        host[host_length] = 0;
        if (colon) snprintf(port, sizeof port, "%s", colon + 1);
    }
    /* Numeric addresses only (plus localhost): a static binary has no resolver libraries. */
    if (strcmp(host, "localhost") == 0) snprintf(host, sizeof host, "127.0.0.1");
    struct sockaddr_in address = {0};
    address.sin_family = AF_INET;
    address.sin_port = htons((unsigned short)atoi(port));
    if (inet_pton(AF_INET, host, &address.sin_addr) != 1) return -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof address) != 0) return -1;
    return fd;
}

int main(void) {
    const char *url = getenv("NATS_URL");
    const char *subject = getenv("ECHO_SUBJECT");
    const char *prefix = getenv("ECHO_PREFIX");
    const char *greeting = getenv("ECHO_GREETING");
    if (!subject || !*subject) subject = "svc.echo";
    size_t prefix_length = prefix ? strlen(prefix) : 0;
    printf("echo service starting on %s\n", subject);
    if (greeting) printf("ECHO_GREETING=%s\n", greeting);
    if (getenv("PATH")) printf("PATH is set\n");
    fflush(stdout);
    fprintf(stderr, "echo service stderr line\n");
    fflush(stderr);

    int fd = connect_to(url);
    if (fd < 0) {
        fprintf(stderr, "cannot connect to %s\n", url ? url : "(no NATS_URL)");
        return 3;
    }
    char command[512];
    snprintf(command, sizeof command,
             "CONNECT {\"verbose\":false,\"pedantic\":false,\"name\":\"echo-service\"}\r\nSUB %s 1\r\nPING\r\n", subject);
    if (send_all(fd, command, strlen(command)) != 0) return 4;

    size_t capacity = 4 << 20, used = 0;
    char *buffer = malloc(capacity);
    char *out = malloc(capacity + 1024);
    int ready = 0;
    for (;;) {
        ssize_t n = read(fd, buffer + used, capacity - used);
        if (n <= 0) {
            fprintf(stderr, "connection closed\n");
            return 5;
        }
        used += (size_t)n;
        size_t start = 0;
        for (;;) {
            char *end = memchr(buffer + start, '\n', used - start);
            if (!end) break;
            size_t line_length = (size_t)(end - (buffer + start)) + 1;
            char *line = buffer + start;
            if (strncmp(line, "PING", 4) == 0) {
                if (send_all(fd, "PONG\r\n", 6) != 0) return 4;
                start += line_length;
            } else if (strncmp(line, "PONG", 4) == 0) {
                if (!ready) {
                    printf("ready\n");
                    fflush(stdout);
                    ready = 1;
                }
                start += line_length;
            } else if (strncmp(line, "MSG ", 4) == 0) {
                char subj[512], sid[32], reply[512];
                long length = 0;
                char header[1200];
                size_t header_length = line_length < sizeof header ? line_length : sizeof header - 1;
                memcpy(header, line, header_length);
                header[header_length] = 0;
                int fields = sscanf(header, "MSG %511s %31s %511s %ld", subj, sid, reply, &length);
                if (fields == 3) {
                    length = atol(reply);
                    reply[0] = 0;
                }
                if (used - start < line_length + (size_t)length + 2) break; /* payload not complete yet */
                char *payload = line + line_length;
                if (reply[0]) {
                    int head = snprintf(out, 600, "PUB %s %ld\r\n", reply, length + (long)prefix_length);
                    memcpy(out + head, prefix ? prefix : "", prefix_length);
                    memcpy(out + head + prefix_length, payload, (size_t)length);
                    memcpy(out + head + prefix_length + (size_t)length, "\r\n", 2);
                    if (send_all(fd, out, (size_t)head + prefix_length + (size_t)length + 2) != 0) return 4;
                }
                start += line_length + (size_t)length + 2;
            } else if (strncmp(line, "-ERR", 4) == 0) {
                fprintf(stderr, "server error: %.*s", (int)line_length, line);
                start += line_length;
            } else {
                start += line_length; /* INFO, +OK */
            }
        }
        memmove(buffer, buffer + start, used - start);
        used -= start;
        if (used == capacity) return 6;
    }
}

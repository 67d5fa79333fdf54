#include <arpa/inet.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
/* A UDP echo server on the port in argv[1]: each datagram back to its sender, prefixed "echo ". */
int main(int argc, char **argv) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(argc > 1 ? atoi(argv[1]) : 53)};
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0) return 1;
    for (;;) {
        char buf[2048] = "echo ";
        struct sockaddr_storage from;
        socklen_t len = sizeof from;
        ssize_t n = recvfrom(fd, buf + 5, sizeof buf - 5, 0, (struct sockaddr *)&from, &len);
        if (n >= 0) sendto(fd, buf, (size_t)n + 5, 0, (struct sockaddr *)&from, len);
    }
}

/* The smallest useful container: one static binary, nothing else in the image. */
#include <stdio.h>

int main(int argc, char **argv) {
    printf("Hello from a FROM scratch image built by berth%s%s\n", argc > 1 ? ", " : "", argc > 1 ? argv[1] : "");
    return 0;
}

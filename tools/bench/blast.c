/* blast: a minimal 64-byte-frame traffic generator for tools/bench/userspace-dp.sh and of-flows.sh.
 * Usage: blast IFACE DST_MAC SECONDS [SPORTS DPORTS]
 * Sends 60-byte (64 on the wire with FCS) Ethernet/IPv4/UDP frames 10.66.0.1 -> 10.66.0.2 on IFACE from an AF_PACKET
 * raw socket with sendmmsg batches of 64, for SECONDS seconds; prints "sent N pps R". pktgen is not in the host
 * kernel. Without SPORTS/DPORTS every frame is identical (source port 1234, destination port 9); with them, frame k
 * has UDP source port 1 + k % SPORTS and destination port 1 + (k / SPORTS) % DPORTS (UDP checksum 0: none), so
 * SPORTS * DPORTS frames go by before a port pair repeats. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 4 && argc != 6) {
        fprintf(stderr, "usage: blast IFACE DST_MAC SECONDS [SPORTS DPORTS]\n");
        return 2;
    }
    unsigned char f[60] = {0};
    unsigned m[6];
    if (sscanf(argv[2], "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6) return 2;
    for (int i = 0; i < 6; i++) f[i] = m[i];
    unsigned char src[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
    memcpy(f + 6, src, 6);
    f[12] = 0x08; f[13] = 0x00;
    unsigned char *ip = f + 14;
    ip[0] = 0x45; ip[3] = 46; ip[8] = 64; ip[9] = 17;
    ip[12] = 10; ip[13] = 66; ip[14] = 0; ip[15] = 1;
    ip[16] = 10; ip[17] = 66; ip[18] = 0; ip[19] = 2;
    uint32_t s = 0;
    for (int i = 0; i < 20; i += 2) s += (ip[i] << 8) | ip[i + 1];
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    ip[10] = (~s >> 8) & 0xff; ip[11] = ~s & 0xff;
    unsigned char *udp = ip + 20;
    udp[0] = 0x04; udp[1] = 0xd2; udp[2] = 0x00; udp[3] = 0x09; udp[5] = 26;

    int fd = socket(AF_PACKET, SOCK_RAW, 0);
    if (fd < 0) { perror("socket"); return 1; }
    struct sockaddr_ll sll = {0};
    sll.sll_family = AF_PACKET;
    sll.sll_ifindex = if_nametoindex(argv[1]);
    sll.sll_halen = 6;
    memcpy(sll.sll_addr, f, 6);
    if (!sll.sll_ifindex) { perror("if_nametoindex"); return 1; }
    if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) { perror("bind"); return 1; }
    unsigned long sports = argc == 6 ? strtoul(argv[4], NULL, 0) : 0, dports = argc == 6 ? strtoul(argv[5], NULL, 0) : 0;
    if (argc == 6 && (sports < 1 || sports > 65535 || dports < 1 || dports > 65535)) {
        fprintf(stderr, "blast: SPORTS and DPORTS must be 1..65535\n");
        return 2;
    }
    static unsigned char frames[BATCH][60];
    struct iovec iov[BATCH];
    struct mmsghdr msgs[BATCH];
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < BATCH; i++) {
        memcpy(frames[i], f, sizeof f);
        iov[i].iov_base = frames[i]; iov[i].iov_len = sizeof f;
        msgs[i].msg_hdr.msg_iov = &iov[i]; msgs[i].msg_hdr.msg_iovlen = 1;
    }
    double t0 = now(), end = t0 + atof(argv[3]);
    unsigned long long sent = 0, k = 0;
    while (now() < end) {
        if (sports) {
            for (int i = 0; i < BATCH; i++, k++) {
                unsigned sp = 1 + k % sports, dp = 1 + (k / sports) % dports;
                unsigned char *u = frames[i] + 34;
                u[0] = sp >> 8; u[1] = sp & 0xff; u[2] = dp >> 8; u[3] = dp & 0xff;
            }
        }
        int r = sendmmsg(fd, msgs, BATCH, 0);
        if (r > 0) sent += r;
        /* Frames not sent are rewritten with the next port pairs: a pair is skipped, never sent twice early. */
    }
    double dt = now() - t0;
    printf("sent %llu pps %.0f\n", sent, sent / dt);
    return 0;
}

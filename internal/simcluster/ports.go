package simcluster

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// webhookPort finds a free local port below the kernel's ephemeral port range for the
// webhook server. Tests stop and start the manager; while it is down, a port in the
// ephemeral range can be taken as the local end of any outgoing connection, and the
// restarted webhook server would then fail to bind it.
func webhookPort() (int, error) {
	low := 32768
	if data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if fields := strings.Fields(string(data)); len(fields) == 2 {
			if n, err := strconv.Atoi(fields[0]); err == nil && n > 2048 {
				low = n
			}
		}
	}
	span := min(low-1024, 10000)
	start := rand.IntN(span)
	for i := range span {
		port := low - 1 - (start+i)%span
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		if err := l.Close(); err != nil {
			return 0, err
		}
		return port, nil
	}
	return 0, fmt.Errorf("no free port in %d-%d for the webhook server", low-span, low-1)
}

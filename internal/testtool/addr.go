package testtool

import (
	"net"
	"testing"
)

// FreeAddr returns a 127.0.0.1 address whose port was free when it
// looked, for a server the test starts in another process. Another
// process may take the port before that server binds it: where that
// matters, the test starts the server again on another one.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

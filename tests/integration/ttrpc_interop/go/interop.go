// The reference side of hull's ttrpc interop test: containerd's own Go ttrpc
// (Debian golang-github-containerd-ttrpc-dev), built offline with
// GO111MODULE=off GOPATH=/usr/share/gocode.
//
//	interop server SOCKET   serve hull.interop.Echo until stdin closes
//	interop client SOCKET   exercise hull's server; exit 1 on the first mismatch
//	interop bench SOCKET N  N sequential Echo calls, prints latency
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/containerd/ttrpc"
	"github.com/gogo/protobuf/types"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const service = "hull.interop.Echo"

func str(v string) *types.StringValue { return &types.StringValue{Value: v} }

func methods() map[string]ttrpc.Method {
	return map[string]ttrpc.Method{
		"Echo": func(ctx context.Context, unmarshal func(interface{}) error) (interface{}, error) {
			var in types.StringValue
			if err := unmarshal(&in); err != nil {
				return nil, err
			}
			return str(in.Value), nil
		},
		"Fail": func(ctx context.Context, unmarshal func(interface{}) error) (interface{}, error) {
			return nil, status.Errorf(codes.NotFound, "container abc not found")
		},
		"Metadata": func(ctx context.Context, unmarshal func(interface{}) error) (interface{}, error) {
			md, _ := ttrpc.GetMetadata(ctx)
			var parts []string
			for k, vs := range md {
				for _, v := range vs {
					parts = append(parts, k+"="+v)
				}
			}
			sort.Strings(parts)
			_, hasDeadline := ctx.Deadline()
			return str(fmt.Sprintf("%s deadline=%v", strings.Join(parts, ","), hasDeadline)), nil
		},
		"Sleep": func(ctx context.Context, unmarshal func(interface{}) error) (interface{}, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		},
	}
}

func serve(path string) error {
	l, err := net.Listen("unix", path)
	if err != nil {
		return err
	}
	s, err := ttrpc.NewServer()
	if err != nil {
		return err
	}
	s.Register(service, methods())
	go s.Serve(context.Background(), l)
	fmt.Println("READY")
	// The test driver closes our stdin to stop us.
	io.Copy(io.Discard, os.Stdin)
	return s.Close()
}

type check struct {
	failures []string
}

func (c *check) expect(ok bool, format string, args ...interface{}) {
	if !ok {
		c.failures = append(c.failures, fmt.Sprintf(format, args...))
	}
}

func client(path string) error {
	conn, err := net.Dial("unix", path)
	if err != nil {
		return err
	}
	cl := ttrpc.NewClient(conn)
	defer cl.Close()
	ctx := context.Background()
	var c check

	var out types.StringValue
	err = cl.Call(ctx, service, "Echo", str("hello from go"), &out)
	c.expect(err == nil && out.Value == "hello from go", "Echo: got %q, %v", out.Value, err)

	big := strings.Repeat("b", 1<<20)
	err = cl.Call(ctx, service, "Echo", str(big), &out)
	c.expect(err == nil && out.Value == big, "Echo 1 MiB: len %d, %v", len(out.Value), err)

	err = cl.Call(ctx, service, "Nope", str(""), &out)
	c.expect(status.Code(err) == codes.Unimplemented, "unknown method: want Unimplemented, got %v", err)
	err = cl.Call(ctx, "no.Such", "Echo", str(""), &out)
	c.expect(status.Code(err) == codes.Unimplemented, "unknown service: want Unimplemented, got %v", err)

	err = cl.Call(ctx, service, "Fail", str(""), &out)
	st, _ := status.FromError(err)
	c.expect(st.Code() == codes.NotFound && st.Message() == "container abc not found", "Fail: got %v", err)

	mdctx := ttrpc.WithMetadata(ctx, ttrpc.MD{"k1": {"v1"}, "k2": {"v2"}})
	mdctx, cancel := context.WithTimeout(mdctx, 5*time.Second)
	err = cl.Call(mdctx, service, "Metadata", str(""), &out)
	cancel()
	c.expect(err == nil && out.Value == "k1=v1,k2=v2 deadline=true", "Metadata: got %q, %v", out.Value, err)

	sctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	start := time.Now()
	err = cl.Call(sctx, service, "Sleep", str(""), &out)
	cancel()
	c.expect(status.Code(err) == codes.DeadlineExceeded || errors.Is(err, context.DeadlineExceeded),
		"Sleep with 200ms deadline: want DeadlineExceeded, got %v", err)
	c.expect(time.Since(start) < 3*time.Second, "Sleep deadline took %v", time.Since(start))

	var wg sync.WaitGroup
	var mu sync.Mutex
	bad := 0
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var o types.StringValue
			want := fmt.Sprintf("call %d", i)
			if err := cl.Call(ctx, service, "Echo", str(want), &o); err != nil || o.Value != want {
				mu.Lock()
				bad++
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	c.expect(bad == 0, "concurrent Echo: %d of 32 calls failed", bad)

	if len(c.failures) > 0 {
		return errors.New(strings.Join(c.failures, "\n"))
	}
	fmt.Println("go client: all checks passed against", path)
	return nil
}

// bench makes n sequential small Echo calls and prints the round-trip latency.
func bench(path string, n int) error {
	conn, err := net.Dial("unix", path)
	if err != nil {
		return err
	}
	cl := ttrpc.NewClient(conn)
	defer cl.Close()
	var out types.StringValue
	for i := 0; i < 100; i++ {
		if err := cl.Call(context.Background(), service, "Echo", str("ping"), &out); err != nil {
			return err
		}
	}
	start := time.Now()
	for i := 0; i < n; i++ {
		if err := cl.Call(context.Background(), service, "Echo", str("ping"), &out); err != nil {
			return err
		}
	}
	d := time.Since(start)
	fmt.Printf("go client: %d calls in %v, %.1f us per round trip\n", n, d, float64(d.Microseconds())/float64(n))
	return nil
}

func main() {
	if len(os.Args) == 4 && os.Args[1] == "bench" {
		n, err := strconv.Atoi(os.Args[3])
		if err == nil {
			err = bench(os.Args[2], n)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "interop:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: interop server|client SOCKET")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "server":
		err = serve(os.Args[2])
	case "client":
		err = client(os.Args[2])
	default:
		err = fmt.Errorf("unknown mode %q (want server or client)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "interop:", err)
		os.Exit(1)
	}
}

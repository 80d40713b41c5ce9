// Command gnetecho is the gnet v2 echo server the comparison measures
// greenhub against: gnet's own echo example (OnTraffic takes everything
// buffered and writes it back), with a 64 KiB read buffer and -loops event
// loops (1, or the number of CPUs).
//
//	go run ./bench/peers/gnetecho -addr 127.0.0.1:7002 -loops 1
//
// gnet's defaults are kept otherwise: level-triggered epoll/kqueue, one
// acceptor plus the event loops. It exits 0 on SIGTERM or SIGINT.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"
)

type echoServer struct {
	gnet.BuiltinEventEngine
	booted chan gnet.Engine
}

func (s *echoServer) OnBoot(eng gnet.Engine) gnet.Action {
	s.booted <- eng
	return gnet.None
}

func (s *echoServer) OnTraffic(c gnet.Conn) gnet.Action {
	buf, _ := c.Next(-1)
	c.Write(buf)
	return gnet.None
}

func main() {
	addr := flag.String("addr", "127.0.0.1:7002", "listen `address` (loopback)")
	loops := flag.Int("loops", 1, "number of event loops (0 = one per CPU)")
	flag.Parse()
	if *loops <= 0 {
		*loops = runtime.NumCPU()
	}

	s := &echoServer{booted: make(chan gnet.Engine, 1)}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	go func() {
		<-sig
		select {
		case eng := <-s.booted:
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			eng.Stop(ctx)
		default:
		}
		os.Exit(0)
	}()
	err := gnet.Run(s, "tcp://"+*addr,
		gnet.WithNumEventLoop(*loops),
		gnet.WithMulticore(*loops > 1),
		gnet.WithReadBufferCap(64<<10),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gnetecho:", err)
		os.Exit(1)
	}
}

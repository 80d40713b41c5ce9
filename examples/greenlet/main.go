// Command greenlet is the classic greenlet program on a greenhub hub:
//
//	from greenlet import greenlet
//	def test1():
//	    print(12)
//	    gr2.switch()
//	    print(34)
//	def test2():
//	    print(56)
//	    gr1.switch()
//	    print(78)
//	gr1 = greenlet(test1)
//	gr2 = greenlet(test2)
//	gr1.switch()
//
// It prints 12, 56 and 34. When test1 returns, control goes to its parent
// (main), which returns; 78 is never printed because nothing switches back
// to gr2, and the hub unwinds it when Run ends.
package main

import (
	"fmt"
	"os"

	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
)

func main() {
	h := hub.New()
	err := h.Run(func() error {
		var gr1, gr2 greenthread.Greenlet
		gr1, err := greenthread.NewGreenlet(h, func(any) (any, error) {
			fmt.Println(12)
			gr2.Switch(nil)
			fmt.Println(34)
			return nil, nil
		}, greenthread.Greenlet{})
		if err != nil {
			return err
		}
		gr2, err = greenthread.NewGreenlet(h, func(any) (any, error) {
			fmt.Println(56)
			gr1.Switch(nil)
			fmt.Println(78)
			return nil, nil
		}, greenthread.Greenlet{})
		if err != nil {
			return err
		}
		_, err = gr1.Switch(nil)
		return err
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "greenlet:", err)
		os.Exit(1)
	}
}

// Command garbage is a program that is not a plugin: it prints a greeting
// where a plugin prints its handshake, then lingers.
package main

import (
	"fmt"
	"time"
)

func main() {
	fmt.Println("hello, I am not a plugin")
	time.Sleep(time.Minute)
}

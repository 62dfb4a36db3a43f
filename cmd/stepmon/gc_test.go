package main

import (
	"runtime/debug"
	"testing"
)

func TestTuneGC(t *testing.T) {
	tests := []struct {
		name string
		gogc string
		want int // the GC percent afterwards
	}{
		{"unset: the service's target", "", serverGCPercent},
		{"GOGC chooses", "50", 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The runtime read GOGC at start-up; stand in for it.
			orig := debug.SetGCPercent(50)
			defer debug.SetGCPercent(orig)
			tuneGC(func(k string) string {
				if k == "GOGC" {
					return tt.gogc
				}
				return ""
			})
			if got := debug.SetGCPercent(orig); got != tt.want {
				t.Errorf("GC percent = %d, want %d", got, tt.want)
			}
		})
	}
}

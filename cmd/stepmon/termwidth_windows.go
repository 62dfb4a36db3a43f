package main

import (
	"os"

	"golang.org/x/sys/windows"
)

// terminalWidth returns the width in columns of the console window f
// writes to, 0 when f is no console (a pipe, a file, mintty's pipes) or
// one that does not take the escape sequence the progress line clears
// its row with (a console before Windows 10): the line is then padded
// instead. It is the window's width, not the screen buffer's, which is
// often wider: a line longer than the window wraps onto the next row,
// where a carriage return would not reach it.
func terminalWidth(f *os.File) int {
	h := windows.Handle(f.Fd())
	var info windows.ConsoleScreenBufferInfo
	if err := windows.GetConsoleScreenBufferInfo(h, &info); err != nil {
		return 0
	}
	var mode uint32
	if err := windows.GetConsoleMode(h, &mode); err != nil {
		return 0
	}
	if mode&windows.ENABLE_VIRTUAL_TERMINAL_PROCESSING == 0 {
		if err := windows.SetConsoleMode(h, mode|windows.ENABLE_VIRTUAL_TERMINAL_PROCESSING); err != nil {
			return 0
		}
	}
	return int(info.Window.Right-info.Window.Left) + 1
}

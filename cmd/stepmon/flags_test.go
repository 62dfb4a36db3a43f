package main

import (
	"flag"
	"io"
	"slices"
	"testing"
	"time"
)

// Flags may come anywhere; after "--" nothing is a flag, also when more
// than one argument follows it (they were parsed as flags again).
func TestInterspersed(t *testing.T) {
	for _, tt := range []struct{ args, want []string }{
		{[]string{"a", "--x=1", "b"}, []string{"a", "b"}},
		{[]string{"--", "-a", "-b"}, []string{"-a", "-b"}},
		{[]string{"a", "--", "-b", "c"}, []string{"a", "-b", "c"}},
		{[]string{"--x=1", "--", "--"}, []string{"--"}},
		{[]string{"--x", "2", "a"}, []string{"a"}},
		// A flag's value "--" is no end of the flags.
		{[]string{"--s", "--", "a", "--x=3"}, []string{"a"}},
		{[]string{"-s=--", "--", "-a"}, []string{"-a"}},
		// A boolean flag takes no value: the "--" after it ends the flags.
		{[]string{"--b", "--", "-a"}, []string{"-a"}},
		{[]string{"a", "-b", "--", "--x=4"}, []string{"a", "--x=4"}},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.Int("x", 0, "")
		fs.String("s", "", "")
		fs.Bool("b", false, "")
		got, err := interspersed(fs, tt.args)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("interspersed(%q) = %q, %v; want %q", tt.args, got, err, tt.want)
		}
	}
}

// Every flag that takes a time takes both spellings: whole seconds ("30")
// and a Go duration ("5m"); a flag of whole seconds refuses a fraction,
// and each refusal says what the flag takes.
func TestTimeFlags(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    int
		wantErr string
	}{
		{"30", 30, ""},
		{"5s", 5, ""},
		{"1h", 3600, ""},
		{"1m30s", 90, ""},
		{"0", 0, ""},
		{"-5", -5, ""},
		{"0.5", 0, "takes whole seconds, e.g. 30, or a duration of whole seconds such as 5m; 0.5 has a fraction of a second"},
		{"1500ms", 0, "takes whole seconds, e.g. 30, or a duration of whole seconds such as 5m; 1500ms has a fraction of a second"},
		{"7d", 0, "takes whole seconds, e.g. 30, or a duration of whole seconds such as 5m (units h, m, s; days are not a unit: write 7d as 168h)"},
		{"abc", 0, "takes whole seconds, e.g. 30, or a duration of whole seconds such as 5m"},
		{"-0.5", 0, "takes whole seconds, e.g. 30, or a duration of whole seconds such as 5m; -0.5 has a fraction of a second"},
		{"1e3", 0, "takes whole seconds, e.g. 30, or a duration of whole seconds such as 5m"},
		{"1.0", 0, "takes whole seconds, e.g. 30, or a duration of whole seconds such as 5m"},
		{"NaN", 0, "takes whole seconds, e.g. 30, or a duration of whole seconds such as 5m"},
		{"Inf", 0, "takes whole seconds, e.g. 30, or a duration of whole seconds such as 5m"},
		{"99999999999999999999", 0, "takes whole seconds, e.g. 30, or a duration of whole seconds such as 5m; 99999999999999999999 is out of range"},
		{"2562048h", 0, "takes whole seconds, e.g. 30, or a duration of whole seconds such as 5m; 2562048h is too large"},
	} {
		var v secondsValue
		err := v.Set(tt.in)
		switch {
		case tt.wantErr == "" && (err != nil || int(v) != tt.want):
			t.Errorf("seconds %q: %d, %v; want %d", tt.in, v, err, tt.want)
		case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
			t.Errorf("seconds %q: error %v; want %q", tt.in, err, tt.wantErr)
		}
	}
	for _, tt := range []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{"5s", 5 * time.Second, ""},
		{"168h", 168 * time.Hour, ""},
		{"1.5s", 1500 * time.Millisecond, ""},
		{"5", 5 * time.Second, ""},
		{"7d", 0, "takes a duration such as 5s, 2m or 168h, or whole seconds such as 30 (days are not a unit: write 7d as 168h)"},
		{"0.5", 0, "takes a duration such as 5s, 2m or 168h, or whole seconds such as 30; a number with a fraction needs a unit: 0.5s, 0.5m or 0.5h"},
		{"1.5", 0, "takes a duration such as 5s, 2m or 168h, or whole seconds such as 30; a number with a fraction needs a unit: 1.5s, 1.5m or 1.5h"},
		{"1.0", 0, "takes a duration such as 5s, 2m or 168h, or whole seconds such as 30; a number with a fraction needs a unit: 1.0s, 1.0m or 1.0h"},
		// Not a decimal a unit can follow: no suggestion.
		{"1e-1", 0, "takes a duration such as 5s, 2m or 168h, or whole seconds such as 30"},
		{"fast", 0, "takes a duration such as 5s, 2m or 168h, or whole seconds such as 30"},
		{"0", 0, "takes a duration such as 5s, 2m or 168h, or whole seconds such as 30; it must be more than zero"},
		{"0s", 0, "takes a duration such as 5s, 2m or 168h, or whole seconds such as 30; it must be more than zero"},
		{"9223372036", 9223372036 * time.Second, ""},
		{"9223372037", 0, "takes a duration such as 5s, 2m or 168h, or whole seconds such as 30; 9223372037 is too large"},
		{"10000000000", 0, "takes a duration such as 5s, 2m or 168h, or whole seconds such as 30; 10000000000 is too large"},
		{"99999999999999999999", 0, "takes a duration such as 5s, 2m or 168h, or whole seconds such as 30; 99999999999999999999 is too large"},
		{"-5", 0, "takes a duration such as 5s, 2m or 168h, or whole seconds such as 30; -5 is negative"},
		{"-1", 0, "takes a duration such as 5s, 2m or 168h, or whole seconds such as 30; -1 is negative"},
		{"-1ns", 0, "takes a duration such as 5s, 2m or 168h, or whole seconds such as 30; -1ns is negative"},
		{"-99999999999999999999", 0, "takes a duration such as 5s, 2m or 168h, or whole seconds such as 30; -99999999999999999999 is negative"},
		{"9999999999999999999ns", 0, "takes a duration such as 5s, 2m or 168h, or whole seconds such as 30; 9999999999999999999ns is too large"},
		{"-7d", 0, "takes a duration such as 5s, 2m or 168h, or whole seconds such as 30"},
		{"-5s", 0, "takes a duration such as 5s, 2m or 168h, or whole seconds such as 30; -5s is negative"},
		{"-10000000000", 0, "takes a duration such as 5s, 2m or 168h, or whole seconds such as 30; -10000000000 is negative"},
		{"9223372037s", 0, "takes a duration such as 5s, 2m or 168h, or whole seconds such as 30; 9223372037s is too large"},
		{"2562048h", 0, "takes a duration such as 5s, 2m or 168h, or whole seconds such as 30; 2562048h is too large"},
		{"-2562048h", 0, "takes a duration such as 5s, 2m or 168h, or whole seconds such as 30; -2562048h is negative"},
		{"h", 0, "takes a duration such as 5s, 2m or 168h, or whole seconds such as 30"},
	} {
		var v durationValue
		err := v.Set(tt.in)
		switch {
		case tt.wantErr == "" && (err != nil || time.Duration(v) != tt.want):
			t.Errorf("duration %q: %v, %v; want %v", tt.in, time.Duration(v), err, tt.want)
		case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
			t.Errorf("duration %q: error %v; want %q", tt.in, err, tt.wantErr)
		}
	}
}

// TestDurationValueString: a duration flag's default shows in the help as
// it is written (168h), without the zero minutes and seconds Go adds
// (168h0m0s).
func TestDurationValueString(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{168 * time.Hour, "168h"},
		{time.Hour, "1h"},
		{2*time.Hour + 30*time.Minute, "2h30m"},
		{10 * time.Minute, "10m"},
		{90 * time.Second, "1m30s"},
		{time.Hour + time.Second, "1h0m1s"},
		{30 * time.Second, "30s"},
		{1500 * time.Millisecond, "1.5s"},
		{0, "0s"},
	} {
		v := durationValue(tt.d)
		if got := v.String(); got != tt.want {
			t.Errorf("durationValue(%v).String() = %q, want %q", tt.d, got, tt.want)
		}
	}
}

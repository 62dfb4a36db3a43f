package main

import (
	"errors"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The flags that take a time take it in either spelling: whole seconds
// ("30") or a Go duration ("5m", "168h"). The API counts in seconds and
// the Go tools in durations; a user should not need to know which a flag
// was written with.

// secondsValue is a flag of whole seconds: "30", or a Go duration that
// is a whole number of seconds ("5s", "1h30m"). Negative values are left
// to the command to refuse, with its own message.
type secondsValue int

const secondsWant = "takes whole seconds, e.g. 30, or a duration of whole seconds such as 5m"

func (v *secondsValue) String() string { return strconv.Itoa(int(*v)) }

func (v *secondsValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	switch {
	case err == nil:
		*v = secondsValue(n)
		return nil
	case errors.Is(err, strconv.ErrRange):
		return errors.New(secondsWant + "; " + s + " is out of range")
	}
	// A number that is not a whole one in decimal: a fraction is named as
	// such; "1e3", "1.0" and "NaN" are numbers too, but have none.
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if !math.IsInf(f, 0) && !math.IsNaN(f) && f != math.Trunc(f) {
			return errors.New(secondsWant + "; " + s + " has a fraction of a second")
		}
		return errors.New(secondsWant)
	}
	d, err := parseDuration(s)
	if err != nil {
		return notDuration(secondsWant, "units h, m, s; ", s)
	}
	if d%time.Second != 0 {
		return errors.New(secondsWant + "; " + s + " has a fraction of a second")
	}
	*v = secondsValue(d / time.Second)
	return nil
}

// durationValue is a flag of a Go duration ("5s", "168h") that also
// takes a bare whole number as seconds ("30"). A negative or zero value
// is refused: no flag of this type has a meaning for one (a zero or
// negative http.Client timeout would be no timeout at all, a zero
// deadline would give up at once).
type durationValue time.Duration

const durationWant = "takes a duration such as 5s, 2m or 168h, or whole seconds such as 30"

// maxDurationSeconds is the largest whole number of seconds a
// time.Duration holds (about 292 years).
const maxDurationSeconds = math.MaxInt64 / int64(time.Second)

// String is the duration as the help shows its default: without zero
// minutes and seconds at its end (168h, 2h30m; Go writes 168h0m0s).
func (v *durationValue) String() string {
	s := time.Duration(*v).String()
	if t, ok := strings.CutSuffix(s, "m0s"); ok {
		s = t + "m"
	}
	if t, ok := strings.CutSuffix(s, "h0m"); ok {
		s = t + "h"
	}
	return s
}

func (v *durationValue) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case err == nil && n < 0, errors.Is(err, strconv.ErrRange) && strings.HasPrefix(s, "-"):
		return errors.New(durationWant + "; " + s + " is negative")
	case err == nil && n > maxDurationSeconds, errors.Is(err, strconv.ErrRange):
		return errors.New(durationWant + "; " + s + " is too large")
	case err == nil && n == 0:
		return errors.New(durationWant + "; it must be more than zero")
	case err == nil:
		*v = durationValue(time.Duration(n) * time.Second)
		return nil
	}
	if decimalFraction.MatchString(s) {
		// A bare number is whole seconds; a fraction needs the unit,
		// which only the user knows (a retention of 1.5 is not 1.5s).
		return errors.New(durationWant + "; a number with a fraction needs a unit: " + s + "s, " + s + "m or " + s + "h")
	}
	d, err := parseDuration(s)
	if err != nil {
		return notDuration(durationWant, "", s)
	}
	if d < 0 {
		return errors.New(durationWant + "; " + s + " is negative")
	}
	if d == 0 {
		return errors.New(durationWant + "; it must be more than zero")
	}
	*v = durationValue(d)
	return nil
}

// decimalFraction matches a number written with a decimal fraction
// ("1.5", ".5"), which a duration's unit can follow as it is.
var decimalFraction = regexp.MustCompile(`^[0-9]*\.[0-9]+$`)

// parseDuration is time.ParseDuration, which also takes a decimal number
// without a unit ("0.5"): that is not a duration, and is refused here.
func parseDuration(s string) (time.Duration, error) {
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return 0, errors.New("no unit")
	}
	return time.ParseDuration(s)
}

// notDuration is the refusal of s, which parseDuration refused, by a flag
// that wants want: days get their hint (after units, for a flag whose
// want does not list them), and a duration's spelling that overflows is
// named out of range.
func notDuration(want, units, s string) error {
	if h := daysHint(s); h != "" {
		return errors.New(want + " (" + units + h + ")")
	}
	if r := outOfRange(s); r != "" {
		return errors.New(want + "; " + s + " " + r)
	}
	return errors.New(want)
}

// durationSyntax is the shape of a Go duration: numbers with units.
var durationSyntax = regexp.MustCompile(`^[-+]?(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+$`)

// outOfRange says why a value written as a duration that
// time.ParseDuration refused was refused, when its spelling is a
// duration's: it is too large ("9223372037s") or too negative for a
// duration; "" otherwise.
func outOfRange(s string) string {
	if !durationSyntax.MatchString(s) {
		return ""
	}
	if strings.HasPrefix(s, "-") {
		return "is negative"
	}
	return "is too large"
}

// daysHint says, for a value in days ("7d"), what to write instead:
// "days are not a unit: write 7d as 168h"; "" for any other value.
func daysHint(s string) string {
	n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
	if !strings.HasSuffix(s, "d") || err != nil || n < 0 {
		return ""
	}
	return "days are not a unit: write " + s + " as " + strconv.Itoa(n*24) + "h"
}

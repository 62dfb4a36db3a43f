package main

import (
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/suggest"
)

// flagError turns the flag package's complaint about args into stepmon's
// usage error: one line, "stepmon: CMD: WHAT; run 'stepmon CMD -h' for
// its flags", the flag written with two dashes as the help and the docs
// write it, and "parse error" said as what the flag takes (the flag
// package's own Int, Uint, Float and Bool flags say only "parse error").
// cmd is the command without "stepmon " ("serve", "asl run"); hint is
// what the help lists, "flags" or "usage".
// args, when given, are the arguments parsed: an unknown flag that may be
// an instance id is shown in the hint as it was typed.
func flagError(fs *flag.FlagSet, cmd, hint string, err error, args ...string) error {
	return usageError("%s: %s; run 'stepmon %s -h' for its %s", cmd, describeFlagError(fs, err.Error(), args...), cmd, hint)
}

// describeFlagError rewrites one of the flag package's messages (see
// flag.FlagSet.Parse); a message of another shape is returned unchanged.
func describeFlagError(fs *flag.FlagSet, msg string, args ...string) string {
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		// The flags it is likely a slip for: --jobid, --job_id or
		// --JOB-ID for --job-id.
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		hint := ""
		cmd := strings.TrimPrefix(fs.Name(), "stepmon ")
		switch like := suggest.Like(name, names); {
		case len(like) > 0:
			hint = " (did you mean --" + strings.Join(like, " or --") + "?)"
		case slices.Contains(idCommands, cmd) && monitor.ValidInstanceID("-"+name):
			// "stepmon status -dash": the API takes ids that begin
			// with '-', the flag package takes them for flags (and
			// says -dash for --dash too: the id is shown as typed).
			id := "-" + name
			for _, a := range args {
				if a != "--" && strings.TrimLeft(a, "-") == name && monitor.ValidInstanceID(a) {
					id = a
					break
				}
			}
			hint = fmt.Sprintf(` (an instance id that begins with "-" goes after "--": stepmon %s -- %s)`, cmd, id)
		}
		return "unknown flag --" + name + hint
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return "--" + name + " needs a value"
	}
	for _, shape := range []string{"invalid value ", "invalid boolean value "} {
		rest, ok := strings.CutPrefix(msg, shape)
		if !ok {
			continue
		}
		value, rest, ok := cutQuoted(rest)
		if !ok {
			return msg
		}
		rest, ok = strings.CutPrefix(rest, " for ")
		if !ok {
			return msg
		}
		rest = strings.TrimPrefix(rest, "flag ")
		name, reason, ok := strings.Cut(strings.TrimPrefix(rest, "-"), ": ")
		if !ok {
			return msg
		}
		return fmt.Sprintf("--%s %s: %s", name, strconv.Quote(value), flagTakes(fs.Lookup(name), reason))
	}
	return msg
}

// idCommands are the commands whose argument is an instance id.
var idCommands = []string{"status", "watch", "terminate", "raise", "purge"}

// cutQuoted splits s after the Go-quoted string it starts with, returning
// that string unquoted.
func cutQuoted(s string) (value, rest string, ok bool) {
	q, err := strconv.QuotedPrefix(s)
	if err != nil {
		return "", s, false
	}
	value, err = strconv.Unquote(q)
	return value, s[len(q):], err == nil
}

// flagTakes says what f takes when its Set said only "parse error", as
// the flag package's own flags do; any other reason is returned as it
// is, for flags whose Set says it themselves (durationValue).
func flagTakes(f *flag.Flag, reason string) string {
	if reason != "parse error" || f == nil {
		return reason
	}
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return reason
	}
	switch g.Get().(type) {
	case bool:
		return "want true or false"
	case int, int64:
		return "want a whole number"
	case uint, uint64:
		return "want a whole number, 0 or more"
	case float64:
		return "want a number"
	}
	return reason
}

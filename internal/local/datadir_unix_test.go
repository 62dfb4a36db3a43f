//go:build unix

package local

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A data directory another user could plant links in is refused, saying
// why and what to do; the user's own, even writable by its group, is not.
func TestCheckDataDirAccess(t *testing.T) {
	base := t.TempDir()
	mk := func(name string, mode os.FileMode) string {
		dir := filepath.Join(base, name)
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	uid := os.Getuid()
	for _, tt := range []struct {
		name    string
		dir     string
		uid     int
		want    string // the error, "" for none
		warning string // the warning, "" for none
	}{
		{"own", mk("own", 0o700), uid, "", ""},
		{"group-writable", mk("group", 0o770), uid, "", ""},
		// A file system without Unix permissions shows every directory
		// so: a warning, not a refusal no chmod could mend.
		{"world-writable", mk("world", 0o777), uid, "", "may be written by every user of this machine (mode -rwxrwxrwx)"},
		{"shared, as /tmp", mk("sticky", 0o777|os.ModeSticky), uid, "a directory every user of this machine shares (mode trwxrwxrwx, as /tmp)", ""},
		{"another user's", mk("theirs", 0o700), uid + 1, "not to you", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			warning, err := checkDataDirAccess(tt.dir, tt.uid)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("checkDataDirAccess = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.dir)):
				t.Errorf("checkDataDirAccess = %v, want an error naming %s and %q", err, tt.dir, tt.want)
			case tt.want != "" && strings.Contains(err.Error(), "chmod"):
				t.Errorf("checkDataDirAccess = %v: it must not advise a chmod of a shared directory", err)
			}
			if (tt.warning == "") != (warning == "") || !strings.Contains(warning, tt.warning) {
				t.Errorf("warning %q, want one with %q", warning, tt.warning)
			}
		})
	}
}

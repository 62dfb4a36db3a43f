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
		name string
		dir  string
		uid  int
		want string // "" for none
	}{
		{"own", mk("own", 0o700), uid, ""},
		{"group-writable", mk("group", 0o770), uid, ""},
		{"world-writable", mk("world", 0o777), uid, "may be written by every user of this machine (mode -rwxrwxrwx)"},
		{"world-writable with the sticky bit", mk("sticky", 0o777|os.ModeSticky), uid, "may be written by every user"},
		{"another user's", mk("theirs", 0o700), uid + 1, "not to you"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := checkDataDirAccess(tt.dir, tt.uid)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("checkDataDirAccess = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.dir)):
				t.Errorf("checkDataDirAccess = %v, want an error naming %s and %q", err, tt.dir, tt.want)
			}
		})
	}
}

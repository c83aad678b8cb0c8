// Package buildinfo reports the version of this otlpd build.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Version is set at link time (-ldflags "-X github.com/otlpd/otlpd/internal/buildinfo.Version=v1.2.3");
// otherwise it comes from the module's build information.
var Version = ""

// Info describes the build.
type Info struct {
	Version   string
	Revision  string
	BuildDate string
	GoVersion string
}

// Get returns the build's information.
func Get() Info {
	info := Info{Version: Version, GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Revision = s.Value
			case "vcs.time":
				info.BuildDate = s.Value
			}
		}
	}
	if info.Version == "" {
		info.Version = "devel"
	}
	return info
}

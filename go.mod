module mpjs

go 1.26.0

require (
	github.com/creack/pty v1.1.24
	github.com/dop251/goja v0.0.0-20260917113740-793a2a65c13b
	github.com/dop251/goja_nodejs v0.0.0-20260212111938-1f56ff5bcf14
	github.com/peterh/liner v1.2.3
	github.com/rogpeppe/go-internal v1.16.0
	golang.org/x/sys v0.50.0
	golang.org/x/term v0.48.0
)

require (
	github.com/clipperhouse/uax29/v2 v2.7.0 // indirect
	github.com/dlclark/regexp2/v2 v2.5.2 // indirect
	github.com/go-sourcemap/sourcemap v2.1.4+incompatible // indirect
	github.com/google/pprof v0.0.0-20240727154555-813a5fbdbec8 // indirect
	github.com/mattn/go-runewidth v0.0.31 // indirect
	golang.org/x/text v0.16.0 // indirect
	golang.org/x/tools v0.26.0 // indirect
)

// goja imports pprof only for a profiler mpjs never starts; the stand-in
// spares every child process the real package's costly init (see its doc).
replace github.com/google/pprof => ./internal/nopprof

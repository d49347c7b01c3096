package evidence

import "slices"

// Registered lists every registered action, sorted, so a test can check that each one is
// produced by some route, worker or admin command.
func Registered() []Action {
	out := make([]Action, 0, len(registered))
	for a := range registered {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

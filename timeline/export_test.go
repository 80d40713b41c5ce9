package timeline

// RuntimeCounts returns the tasks r began and ended and the regions it
// began.
func RuntimeCounts(r *Runtime) (tasks, ended, regions int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tasks, r.ended, r.regions
}

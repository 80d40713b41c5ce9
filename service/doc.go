// Package service is oslo.service for greenhub: long-running services
// on a hub, their green threads and periodic timers, and the launchers that
// run them in one process or in several, handling the signals an operator
// sends.
//
//   - Service is oslo's ServiceBase (Start, Stop(graceful), Wait, Reset);
//     Base is an embeddable one with a ThreadGroup, as oslo's Service has
//     self.tg.
//   - ThreadGroup is oslo's threadgroup: a greenpool.Pool of green threads
//     plus timers — AddTimer (FixedIntervalLoopingCall), AddDynamicTimer
//     (DynamicLoopingCall) — stopped together, gracefully or not. Timers
//     are green threads sleeping on the hub's clock, so a virtual clock
//     runs them in no time.
//   - ServiceLauncher runs services on one hub in this process; signals
//     reach its green threads through greensync.NotifySignal. SIGTERM and
//     SIGINT stop gracefully within a drain bound, a second one forces the
//     stop, SIGHUP restarts (Reset).
//   - ProcessLauncher runs a service in N worker processes — the program
//     executed again, inheriting listening sockets — and supervises them:
//     respawns with oslo's fork throttle, no respawn for ExitNoRespawn
//     (Glance's rule), graceful restart of every worker on SIGHUP without
//     refusing a connection, SIGTERM forwarded, workers that die with
//     their parent. Worker tells a program whether it is one of them.
//   - Launch picks the launcher as oslo's launch does: 1 worker in
//     process, more in processes.
//
// A launcher's Wait returns the exit status for os.Exit: ExitOK,
// ExitFailure or ExitNoRespawn.
//
// Which goroutine may call what is said on each type: services and thread
// groups are the hub's (green threads); launchers are set up from any
// goroutine before Wait, Wait runs on the goroutine that owns the run, and
// Stop may come from any goroutine.
package service

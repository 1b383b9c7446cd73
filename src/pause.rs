//! Writes paused for a manual failover (Redis's pauseClients with
//! CLIENT_PAUSE_WRITE): a master whose replica asked to take over holds
//! every client's writes, lets the writes already admitted finish, and then
//! tells the replica the offset its stream stopped at. The replica takes
//! over once it has applied that much, so no acknowledged write is lost.
//!
//! A command that may write is admitted (and counted on its core until the
//! read that carried it is answered) only while its core is not paused; one
//! that arrives during a pause waits for its end. The bus core pauses each
//! core with a message and then waits for every core's count to drain
//! (within the reads that admitted the writes): everything written before
//! the pause then has its number in the replication stream. The pause ends
//! with a message to each core too, sent after the new routes, so a held
//! write that goes on is checked against the configuration the failover
//! left (a MOVED to the new master).

use crate::core::{now_ms, Core};
use crate::session::State;
use shoal_engine::command::{flags, Command, Run, ServerCmd};
use std::rc::Rc;
use std::time::Duration;

/// How often a held write looks whether the pause ended, and how often the
/// bus core looks whether the admitted writes finished.
const POLL: Duration = Duration::from_millis(2);

/// Whether writes are paused on this core now.
pub fn active(core: &Core) -> bool {
    let until = core.writes_paused_until.get();
    until != 0 && now_ms() < until
}

/// Whether a command may change data (what a write pause holds).
pub fn may_write(cmd: &Command) -> bool {
    cmd.has_flag(flags::WRITE | flags::MAY_REPLICATE) || matches!(cmd.run, Run::Server(ServerCmd::Exec))
}

/// Admits a client's command that may write: while a pause is on, the
/// replies before it go out and it waits for the end of the pause. A
/// blocking command is not counted (it may wait for data forever; the
/// writes that would serve it are themselves held).
pub async fn admit(st: &mut State, cmd: &Command, out: &mut Vec<u8>) {
    if active(&st.core) {
        st.flush(out).await;
        release(st);
        while active(&st.core) {
            glommio::timer::sleep(POLL).await;
        }
    }
    if !cmd.has_flag(flags::BLOCKING) {
        st.writes_admitted += 1;
        let c = &st.core.writes_running;
        c.set(c.get() + 1);
    }
}

/// The writes this connection's read admitted are done (their replies are made).
pub fn release(st: &mut State) {
    let c = &st.core.writes_running;
    c.set(c.get() - std::mem::take(&mut st.writes_admitted));
}

/// On the bus core: pauses writes until `until` (unix ms), waits for the
/// admitted ones to finish and reach the stream, then tells the cluster
/// state, which announces the offset to the replica taking over.
pub async fn pause(core: Rc<Core>, until: u64) {
    crate::admin::on_all_cores(&core, move |core| core.writes_paused_until.set(until)).await;
    tracing::warn!("Writes paused for a manual failover");
    let in_progress = |core: &Core| core.bus.borrow().as_ref().is_some_and(|b| b.state.borrow().mf.end != 0);
    if !in_progress(&core) {
        // It ended (timed out, or this node lost its slots) while the cores were being paused.
        resume(&core);
        return;
    }
    loop {
        let running: usize =
            crate::admin::on_all_cores(&core, |core| core.writes_running.get()).await.into_iter().sum();
        if running == 0 || !active(&core) {
            break;
        }
        glommio::timer::sleep(POLL).await;
    }
    if !active(&core) {
        return;
    }
    crate::master::settled_offset(&core).await;
    let Some(bus) = core.bus.borrow().clone() else { return };
    bus.sync_replication(&core);
    bus.state.borrow_mut().writes_paused(now_ms());
    bus.apply(&core);
}

/// Ends a pause (on the bus core, after the new routes went out).
pub fn resume(core: &Rc<Core>) {
    for c in 0..core.shared.cores {
        core.run_on(c, |core| core.writes_paused_until.set(0));
    }
    tracing::warn!("Writes resumed");
}

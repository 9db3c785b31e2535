//! The agent that asks: a program wants a token of a provider that asks first, and the person
//! answers in the window (allow once, for 8 hours, or deny), or, while the window is hidden,
//! through a notification that brings it up with the question. Nobody answering within the
//! agent's limit is a refusal.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Mutex};

use oauth_desk_core::agent::{Ask, Question, Verdict, ASK_LIMIT};
use oauth_desk_core::text::visible;
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, Runtime, State};

use crate::error::CommandResult;

/// The questions waiting for the person, by id.
#[derive(Default)]
pub struct Questions {
    next: AtomicU64,
    waiting: Mutex<HashMap<u64, (Prompt, Sender<Verdict>)>>,
}

/// The `agent-ask` event: a question for the window to show (no secret in it).
#[derive(Clone, Serialize)]
pub struct Prompt {
    id: u64,
    #[serde(flatten)]
    question: Question,
}

/// At most this many questions wait at once; more are not answered.
const MAX_WAITING: usize = 8;

struct WindowAsker<R: Runtime> {
    app: AppHandle<R>,
}

/// The asker the window's agent puts its questions to.
pub fn asker<R: Runtime>(app: &AppHandle<R>) -> Arc<dyn Ask> {
    Arc::new(WindowAsker { app: app.clone() })
}

impl<R: Runtime> Ask for WindowAsker<R> {
    fn ask(&self, question: &Question) -> Verdict {
        let questions = self.app.state::<Questions>();
        let id = questions.next.fetch_add(1, Ordering::SeqCst) + 1;
        let prompt = Prompt {
            id,
            question: question.clone(),
        };
        let (tx, rx) = channel();
        {
            let mut waiting = questions.waiting.lock().unwrap();
            // A flood of requests does not bury the person in questions.
            if waiting.len() >= MAX_WAITING {
                return Verdict::NoAnswer;
            }
            waiting.insert(id, (prompt.clone(), tx));
        }
        let shown = self
            .app
            .get_webview_window("main")
            .and_then(|w| w.is_visible().ok())
            .unwrap_or(false);
        if shown {
            let _ = self.app.emit("agent-ask", prompt);
        } else {
            let program = visible(&question.program);
            let whom = if question.remote {
                format!("{program}, for another machine over SSH,")
            } else {
                program
            };
            crate::notices::offer_answer(
                &self.app,
                &format!(
                    "A program asks for a token of {}",
                    visible(&question.provider)
                ),
                &format!(
                    "{whom} asks for the token of {}. Open OAuth Desk to allow or deny it.",
                    visible(&question.account)
                ),
            );
        }
        let verdict = rx.recv_timeout(ASK_LIMIT).unwrap_or(Verdict::NoAnswer);
        questions.waiting.lock().unwrap().remove(&id);
        let _ = self.app.emit("agent-ask-done", id);
        verdict
    }
}

/// The questions still waiting (the window shows them when it comes up).
#[tauri::command]
pub fn waiting_questions(questions: State<'_, Questions>) -> Vec<Prompt> {
    let waiting = questions.waiting.lock().unwrap();
    let mut prompts: Vec<Prompt> = waiting.values().map(|(p, _)| p.clone()).collect();
    prompts.sort_by_key(|p| p.id);
    prompts
}

/// The person's answer to question `id`: "once", "hours" or "deny".
#[tauri::command]
pub fn answer_question(
    questions: State<'_, Questions>,
    id: u64,
    answer: String,
) -> CommandResult<()> {
    let verdict = match answer.as_str() {
        "once" => Verdict::Once,
        "hours" => Verdict::ForHours,
        _ => Verdict::Deny,
    };
    if let Some((_, tx)) = questions.waiting.lock().unwrap().remove(&id) {
        let _ = tx.send(verdict);
    }
    Ok(())
}

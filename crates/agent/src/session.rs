//! The agent loop: a user turn goes to the model with the conversation so far; every tool call
//! in its response is run and its output added; the model is asked again until it answers
//! without calling a tool. That answer is the turn's final message.

use crate::events::{AgentEvent, ErrorInfo, ItemDetails, ThreadItem};
use crate::model::{Item, ModelClient, ModelError, Prompt, ResponseEvent, Role, Usage};
use crate::rollout::Rollout;
use crate::tools::ToolContext;

/// A turn that asks the model this many times without an answer is stopped: a model stuck in
/// a loop of tool calls should not run forever unattended.
pub const MAX_REQUESTS_PER_TURN: usize = 1000;

/// Why a turn ended without a final message.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The model could not be asked, or its answer could not be read.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The model kept calling tools.
    #[error(
        "the model made {0} requests in one turn without finishing; stopped (ask for a smaller step)"
    )]
    TooManySteps(usize),
    /// The session log could not be written.
    #[error("cannot write the session log: {0}; use --ephemeral to run without one")]
    Rollout(std::io::Error),
    /// The turn was interrupted (Ctrl-C, or the MCP client cancelled its call) before it ended.
    #[error("the turn was interrupted")]
    Interrupted,
}

/// How a turn ended.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnOutcome {
    /// The model's last message (empty when it said nothing).
    pub final_message: String,
    /// Tokens used by the turn's requests.
    pub usage: Usage,
}

/// One conversation with the model.
#[derive(Debug)]
pub struct Session {
    id: String,
    client: ModelClient,
    instructions: String,
    history: Vec<Item>,
    tools: ToolContext,
    rollout: Option<Rollout>,
    next_item: u64,
    notify: Vec<String>,
    turns: u64,
    context_tokens: u64,
    hide_reasoning: bool,
    images: Vec<crate::model::Image>,
    output_schema: Option<serde_json::Value>,
    web_search: bool,
}

impl Session {
    /// A session with no turns yet. `rollout` is `None` for `--ephemeral`.
    pub fn new(
        id: String,
        client: ModelClient,
        instructions: String,
        tools: ToolContext,
        rollout: Option<Rollout>,
    ) -> Self {
        Session {
            id,
            client,
            instructions,
            history: Vec::new(),
            tools,
            rollout,
            next_item: 0,
            notify: Vec::new(),
            turns: 0,
            context_tokens: 0,
            hide_reasoning: false,
            images: Vec::new(),
            output_schema: None,
            web_search: false,
        }
    }

    /// A session that goes on from a saved one (`codex resume`): `history` is the conversation
    /// read back from its log, `events` the steps it recorded, and new items and events are
    /// appended to `rollout`, the same log.
    pub fn resume(
        id: String,
        client: ModelClient,
        instructions: String,
        tools: ToolContext,
        rollout: Option<Rollout>,
        history: Vec<Item>,
        events: &[AgentEvent],
    ) -> Self {
        let mut s = Session::new(id, client, instructions, tools, rollout);
        s.history = history;
        // Item ids stay unique across the whole log: go on after the highest one used.
        s.next_item = events
            .iter()
            .filter_map(|e| match e {
                AgentEvent::ItemStarted { item } | AgentEvent::ItemCompleted { item } => {
                    item.id.strip_prefix("item_")?.parse::<u64>().ok()
                }
                _ => None,
            })
            .max()
            .map_or(0, |n| n + 1);
        s.turns = events
            .iter()
            .filter(|e| matches!(e, AgentEvent::TurnStarted))
            .count() as u64;
        s
    }

    /// Runs `argv` (config.toml's `notify`) at the end of each turn that reached a final
    /// message; see [`crate::notify`].
    pub fn with_notify(mut self, argv: Vec<String>) -> Self {
        self.notify = argv;
        self
    }

    /// `hide_agent_reasoning = true`: the model's reasoning summaries are neither shown nor
    /// logged.
    pub fn with_hidden_reasoning(mut self, hide: bool) -> Self {
        self.hide_reasoning = hide;
        self
    }

    /// Attaches images to the next turn's user message.
    pub fn attach_images(&mut self, images: Vec<crate::model::Image>) {
        self.images = images;
    }

    /// Asks the model to answer in this JSON Schema's shape, from the next request on.
    pub fn set_output_schema(&mut self, schema: Option<serde_json::Value>) {
        self.output_schema = schema;
    }

    /// Offers the provider's web search tool to the model from the next request on.
    pub fn set_web_search(&mut self, on: bool) {
        self.web_search = on;
    }

    /// The session id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The model asked.
    pub fn model(&self) -> &str {
        self.client.model()
    }

    /// Asks `model` from the next turn on; the conversation so far goes with it.
    pub fn set_model(&mut self, model: &str) {
        self.client.set_model(model);
    }

    /// How many tokens the conversation takes in the model's context: the total of the last
    /// request (its prompt is the whole conversation), 0 before the first.
    pub fn context_tokens(&self) -> u64 {
        self.context_tokens
    }

    /// The provider's id.
    pub fn provider_id(&self) -> &str {
        self.client.provider_id()
    }

    /// What tool calls run with: the working directory and the sandbox.
    pub fn tools(&self) -> &ToolContext {
        &self.tools
    }

    /// A line saying what this session is, for the top of its progress output.
    pub fn header(&self) -> String {
        let remote = match self.tools.executor.backend() {
            crate::executor::Backend::Local { .. } => String::new(),
            crate::executor::Backend::Remote { url, .. } => format!(", commands on {url}"),
        };
        format!(
            "codex session {}: model {} ({}), sandbox {}{remote}, in {}",
            self.id,
            self.model(),
            self.provider_id(),
            self.tools.sandbox.mode,
            self.tools.cwd.display()
        )
    }

    /// The conversation so far.
    pub fn history(&self) -> &[Item] {
        &self.history
    }

    /// Runs one user turn to its final message, telling `emit` each step.
    pub async fn run_turn(
        &mut self,
        input: String,
        emit: &mut (dyn FnMut(&AgentEvent) + Send),
    ) -> Result<TurnOutcome, AgentError> {
        self.run_turn_until(input, emit, std::future::pending())
            .await
    }

    /// [`Session::run_turn`], stopped with [`AgentError::Interrupted`] as soon as `interrupt`
    /// completes. The model's request is dropped and a running command is terminated; calls the
    /// model made that have no output yet are answered "interrupted", so the session can go on
    /// with the next turn.
    pub async fn run_turn_until(
        &mut self,
        input: String,
        emit: &mut (dyn FnMut(&AgentEvent) + Send),
        interrupt: impl std::future::Future<Output = ()> + Send,
    ) -> Result<TurnOutcome, AgentError> {
        self.event(emit, AgentEvent::TurnStarted)?;
        self.turns += 1;
        let result = {
            let turn = self.turn(input.clone(), emit);
            tokio::pin!(turn);
            tokio::pin!(interrupt);
            tokio::select! {
                r = &mut turn => r,
                () = &mut interrupt => Err(AgentError::Interrupted),
            }
        };
        match result {
            Ok(outcome) => {
                self.event(
                    emit,
                    AgentEvent::TurnCompleted {
                        usage: outcome.usage,
                    },
                )?;
                if !self.notify.is_empty() {
                    let payload = crate::notify::TurnComplete {
                        thread_id: &self.id,
                        turn_id: format!("turn_{}", self.turns),
                        cwd: self.tools.cwd.display().to_string(),
                        input_messages: vec![&input],
                        last_assistant_message: &outcome.final_message,
                    };
                    crate::notify::run(&self.notify, &payload, &self.tools.cwd);
                }
                Ok(outcome)
            }
            Err(e) => {
                let failed = AgentEvent::TurnFailed {
                    error: ErrorInfo {
                        message: e.to_string(),
                    },
                };
                // The turn's own error matters more than a failure to log it.
                let _ = self.event(emit, failed);
                let why = match e {
                    AgentError::Interrupted => {
                        "interrupted: the user stopped the turn before this call finished"
                    }
                    _ => "not run: the turn ended in an error first",
                };
                let _ = self.answer_dangling_calls(why);
                Err(e)
            }
        }
    }

    async fn turn(
        &mut self,
        input: String,
        emit: &mut (dyn FnMut(&AgentEvent) + Send),
    ) -> Result<TurnOutcome, AgentError> {
        let images = std::mem::take(&mut self.images);
        self.push(Item::Message {
            role: Role::User,
            text: input,
            images,
        })?;
        let mut usage = Usage::default();
        for _ in 0..MAX_REQUESTS_PER_TURN {
            let prompt = Prompt {
                instructions: self.instructions.clone(),
                input: self.history.clone(),
                tools: self.tools.specs(),
                output_schema: self.output_schema.clone(),
                web_search: self.web_search,
            };
            let mut stream = self.client.stream(&prompt).await?;
            let mut calls = Vec::new();
            let mut last_message = None;
            while let Some(event) = stream.next().await {
                match event? {
                    // Only for watching the answer appear: the whole message follows as an item.
                    ResponseEvent::TextDelta(delta) => {
                        emit(&AgentEvent::AgentMessageDelta { delta });
                    }
                    ResponseEvent::ReasoningSummary(text) => {
                        if !self.hide_reasoning {
                            self.completed(emit, ItemDetails::Reasoning { text })?;
                        }
                    }
                    ResponseEvent::Item(item) => {
                        match &item {
                            Item::Message {
                                role: Role::Assistant,
                                text,
                                ..
                            } => {
                                last_message = Some(text.clone());
                            }
                            Item::FunctionCall { .. } => calls.push(item.clone()),
                            _ => {}
                        }
                        self.push(item)?;
                    }
                    ResponseEvent::Completed { usage: u, .. } => {
                        if let Some(u) = u {
                            self.context_tokens = u.total_tokens;
                            usage.input_tokens += u.input_tokens;
                            usage.output_tokens += u.output_tokens;
                            usage.total_tokens += u.total_tokens;
                        }
                    }
                }
            }
            if calls.is_empty() {
                let text = last_message.unwrap_or_default();
                self.completed(emit, ItemDetails::AgentMessage { text: text.clone() })?;
                return Ok(TurnOutcome {
                    final_message: text,
                    usage,
                });
            }
            if let Some(text) = last_message {
                self.completed(emit, ItemDetails::AgentMessage { text })?;
            }
            for call in calls {
                let Item::FunctionCall {
                    call_id,
                    name,
                    arguments,
                } = call
                else {
                    continue;
                };
                self.call_tool(call_id, &name, &arguments, emit).await?;
            }
        }
        Err(AgentError::TooManySteps(MAX_REQUESTS_PER_TURN))
    }

    async fn call_tool(
        &mut self,
        call_id: String,
        name: &str,
        arguments: &str,
        emit: &mut (dyn FnMut(&AgentEvent) + Send),
    ) -> Result<(), AgentError> {
        let id = format!("item_{}", self.next_item);
        self.next_item += 1;
        let mut started_events = Vec::new();
        let outcome = {
            let mut started = |details: ItemDetails| {
                let event = AgentEvent::ItemStarted {
                    item: ThreadItem {
                        id: id.clone(),
                        details,
                    },
                };
                emit(&event);
                started_events.push(event);
            };
            self.tools.call(name, arguments, &mut started).await
        };
        if let Some(r) = &mut self.rollout {
            for e in &started_events {
                r.event(e).map_err(AgentError::Rollout)?;
            }
        }
        if let Some(details) = outcome.details {
            self.event(
                emit,
                AgentEvent::ItemCompleted {
                    item: ThreadItem { id, details },
                },
            )?;
        }
        self.push(Item::FunctionCallOutput {
            call_id,
            output: outcome.output,
        })
    }

    fn completed(
        &mut self,
        emit: &mut (dyn FnMut(&AgentEvent) + Send),
        details: ItemDetails,
    ) -> Result<(), AgentError> {
        let id = format!("item_{}", self.next_item);
        self.next_item += 1;
        self.event(
            emit,
            AgentEvent::ItemCompleted {
                item: ThreadItem { id, details },
            },
        )
    }

    fn event(
        &mut self,
        emit: &mut (dyn FnMut(&AgentEvent) + Send),
        event: AgentEvent,
    ) -> Result<(), AgentError> {
        emit(&event);
        if let Some(r) = &mut self.rollout {
            r.event(&event).map_err(AgentError::Rollout)?;
        }
        Ok(())
    }

    /// Gives every call the model made but no tool answered (the turn failed in between) an
    /// output saying so: the APIs refuse a conversation with unanswered calls, and the next
    /// turn of an interactive session must still be sendable.
    fn answer_dangling_calls(&mut self, why: &str) -> Result<(), AgentError> {
        let answered: std::collections::HashSet<String> = self
            .history
            .iter()
            .filter_map(|i| match i {
                Item::FunctionCallOutput { call_id, .. } => Some(call_id.clone()),
                _ => None,
            })
            .collect();
        let dangling: Vec<String> = self
            .history
            .iter()
            .filter_map(|i| match i {
                Item::FunctionCall { call_id, .. } if !answered.contains(call_id) => {
                    Some(call_id.clone())
                }
                _ => None,
            })
            .collect();
        for call_id in dangling {
            self.push(Item::FunctionCallOutput {
                call_id,
                output: why.into(),
            })?;
        }
        Ok(())
    }

    fn push(&mut self, item: Item) -> Result<(), AgentError> {
        if let Some(r) = &mut self.rollout {
            r.item(&item).map_err(AgentError::Rollout)?;
        }
        self.history.push(item);
        Ok(())
    }
}

// Public API of the chat data layer: chat rows → messages, the model's chat template rendered as transformers
// does, assistant spans (with end-of-turn tokens), token label masks, and the data-preview segments.
export { chatFromRow, isChatRow, type ChatMessage, type ChatRole } from './messages';
export { ChatTemplate, ChatTemplateError, chatTemplateFromConfig, type ChatTemplateOptions, type ChatTemplateSpec } from './template';
export { renderWithSpans, type CharSpan, type RenderedChat } from './spans';
export { byteLevelOffsets, tokenMask, tokenOffsets, TokenOffsetError, type OffsetEncoder, type TokenOffsets, type UnitTokenizer } from './offsets';
export { conversationPreview, previewSegments, type PreviewSegment } from './preview';
export { buildChatSequences, type ChatRow, type ChatSequences } from './sequences';
export { endOfTurnId, loadChatSetup, noTemplateForChat, noTemplateMessage, type ChatSetup, type ChatSetupOptions } from './folder';
export { stripMarkers } from './template';

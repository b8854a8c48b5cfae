from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LLMProvider(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LLM_PROVIDER_UNSPECIFIED: _ClassVar[LLMProvider]
    OPENAI: _ClassVar[LLMProvider]
    ANTHROPIC: _ClassVar[LLMProvider]
    VLLM: _ClassVar[LLMProvider]
    SGLANG: _ClassVar[LLMProvider]
    TGI: _ClassVar[LLMProvider]
    OLLAMA: _ClassVar[LLMProvider]
    AZURE_OPENAI: _ClassVar[LLMProvider]
    BEDROCK: _ClassVar[LLMProvider]
    CUSTOM: _ClassVar[LLMProvider]
LLM_PROVIDER_UNSPECIFIED: LLMProvider
OPENAI: LLMProvider
ANTHROPIC: LLMProvider
VLLM: LLMProvider
SGLANG: LLMProvider
TGI: LLMProvider
OLLAMA: LLMProvider
AZURE_OPENAI: LLMProvider
BEDROCK: LLMProvider
CUSTOM: LLMProvider

class TraceSpanProto(_message.Message):
    __slots__ = ("trace_id", "span_id", "parent_span_id", "tenant_id", "operation_name", "start_time_unix_nano", "end_time_unix_nano", "provider", "model_name", "prompt", "response", "prompt_tokens", "completion_tokens", "total_tokens", "time_to_first_token_ms", "duration_ms", "status_code", "error_message", "tags")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    SPAN_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_SPAN_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATION_NAME_FIELD_NUMBER: _ClassVar[int]
    START_TIME_UNIX_NANO_FIELD_NUMBER: _ClassVar[int]
    END_TIME_UNIX_NANO_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TIME_TO_FIRST_TOKEN_MS_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    trace_id: str
    span_id: str
    parent_span_id: str
    tenant_id: str
    operation_name: str
    start_time_unix_nano: int
    end_time_unix_nano: int
    provider: LLMProvider
    model_name: str
    prompt: str
    response: str
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    time_to_first_token_ms: int
    duration_ms: int
    status_code: int
    error_message: str
    tags: _containers.ScalarMap[str, str]
    def __init__(self, trace_id: _Optional[str] = ..., span_id: _Optional[str] = ..., parent_span_id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., operation_name: _Optional[str] = ..., start_time_unix_nano: _Optional[int] = ..., end_time_unix_nano: _Optional[int] = ..., provider: _Optional[_Union[LLMProvider, str]] = ..., model_name: _Optional[str] = ..., prompt: _Optional[str] = ..., response: _Optional[str] = ..., prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ..., total_tokens: _Optional[int] = ..., time_to_first_token_ms: _Optional[int] = ..., duration_ms: _Optional[int] = ..., status_code: _Optional[int] = ..., error_message: _Optional[str] = ..., tags: _Optional[_Mapping[str, str]] = ...) -> None: ...

class IngestTracesRequest(_message.Message):
    __slots__ = ("spans",)
    SPANS_FIELD_NUMBER: _ClassVar[int]
    spans: _containers.RepeatedCompositeFieldContainer[TraceSpanProto]
    def __init__(self, spans: _Optional[_Iterable[_Union[TraceSpanProto, _Mapping]]] = ...) -> None: ...

class IngestTracesResponse(_message.Message):
    __slots__ = ("accepted_spans", "rejected_spans", "error_message")
    ACCEPTED_SPANS_FIELD_NUMBER: _ClassVar[int]
    REJECTED_SPANS_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    accepted_spans: int
    rejected_spans: int
    error_message: str
    def __init__(self, accepted_spans: _Optional[int] = ..., rejected_spans: _Optional[int] = ..., error_message: _Optional[str] = ...) -> None: ...

class StreamTracesRequest(_message.Message):
    __slots__ = ("spans",)
    SPANS_FIELD_NUMBER: _ClassVar[int]
    spans: _containers.RepeatedCompositeFieldContainer[TraceSpanProto]
    def __init__(self, spans: _Optional[_Iterable[_Union[TraceSpanProto, _Mapping]]] = ...) -> None: ...

class StreamTracesResponse(_message.Message):
    __slots__ = ("accepted_spans", "rejected_spans", "error_message")
    ACCEPTED_SPANS_FIELD_NUMBER: _ClassVar[int]
    REJECTED_SPANS_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    accepted_spans: int
    rejected_spans: int
    error_message: str
    def __init__(self, accepted_spans: _Optional[int] = ..., rejected_spans: _Optional[int] = ..., error_message: _Optional[str] = ...) -> None: ...

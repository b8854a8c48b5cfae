"""The request-side pattern catalogue: prompt injection, jailbreaks, role injection, prompt extraction, shell and SQL
injection, data exfiltration, header injection, and the auxiliary persuasion signals.

Patterns read normalised, lower-cased text (the analyser lowers it once; the patterns are compiled case-sensitive,
which halves their cost against IGNORECASE, and contain no upper-case literals: a unit test checks). They require the *structure* of an attack (a verb aimed at the model's
instructions, a persona that drops its rules), not trigger words alone, because benign prompts say "ignore", "system"
and "override" all the time.
"""

from __future__ import annotations

import re

import attrs

from domain.findings import Severity


@attrs.frozen
class Pattern:
    name: str
    finding_type: str
    severity: Severity
    confidence: float
    regex: re.Pattern[str]


def _alt(*words: str) -> str:
    return "(?:" + "|".join(words) + ")"


H, C, M = Severity.HIGH, Severity.CRITICAL, Severity.MEDIUM

_IGNORE = _alt("ignor(?:e|es|ed|ing)", "disregard(?:s|ed|ing)?", "forget(?:s|ting)?", "bypass(?:es|ed|ing)?",
               "overrid(?:e|es|ing)", "overwrit(?:e|ing)", "skip(?:ping)?", "neglect(?:ing)?", "abandon(?:ing)?",
               "drop(?:ping)?", "set aside", "discard(?:ing)?", "dismiss(?:ing)?", "throw out", "omit(?:ting)?",
               "disobey(?:ing)?", "stop following", "do not follow", "don't follow", "dont follow",
               "no longer follow", "cancel")  # fmt: skip
_PRIOR = _alt("previous", "prior", "above", "earlier", "preceding", "initial", "original", "former", "old",
              "all", "any", "every", "your", "the system", "system", "developer", "given", "existing", "current",
              "pre-?set", "default", "programmed", "built-in")  # fmt: skip
_RULES = _alt("instructions?", "prompts?", "rules", "directions", "directives?", "guidelines", "commands",
              "constraints", "programming", "guidance", "orders", "restrictions", "policies", "protocols",
              "training", "settings", "configuration", "limitations", "safeguards", "safety measures",
              "content polic(?:y|ies)", "ethical guidelines", "moral guidelines", "principles", "context")  # fmt: skip
_SECRET_PROMPT = _alt("system prompt", "system message", "initial prompt", "original prompt", "hidden prompt",
                      "secret prompt", "system instructions?", "initial instructions?", "original instructions?",
                      "hidden instructions?", "developer (?:message|prompt|instructions?)", "pre-?prompt",
                      "(?:your|the) (?:full |complete |exact |entire )?(?:instructions|prompt|rules|guidelines)")  # fmt: skip
_REVEAL = _alt("reveal", "show", "print", "output", "display", "repeat", "tell me", "give me", "share", "expose",
               "leak", "dump", "write out", "spell out", "recite", "disclose", "list", "paste", "return", "echo",
               "encode", "translate", "summari[sz]e", "what (?:is|are|was|were)")  # fmt: skip

PATTERNS: tuple[Pattern, ...] = tuple(
    Pattern(name, kind, severity, conf, re.compile(rx, re.DOTALL))
    for name, kind, severity, conf, rx in [
        # --- prompt injection ---------------------------------------------------------------------------------
        (
            "ignore_previous_instructions",
            "prompt_injection",
            H,
            0.9,
            rf"\b{_IGNORE}\b[^.!?\n]{{0,40}}?\b{_PRIOR}\b[^.!?\n]{{0,30}}?\b{_RULES}\b",
        ),
        (
            "ignore_everything",
            "prompt_injection",
            H,
            0.9,
            r"\b(?:ignore|disregard|forget)\s+(?:everything|all(?: of)? (?:that|this|it)|what)\s+(?:above|before|"
            r"previously|prior|(?:i|you|we|they) (?:said|told|wrote|were told)|(?:was |were |has been |you were )?"
            r"(?:said|told|written|given|instructed))",
        ),
        (
            "ignore_the_above",
            "prompt_injection",
            H,
            0.85,
            r"\b(?:ignore|disregard|forget)\s+(?:the|all)\s+(?:above|previous|prior|preceding)\b(?!\s+(?:step|example|"
            r"question|answer|paragraph|section|error|typo|comment|message about))",
        ),
        (
            "instructions_replaced",
            "prompt_injection",
            H,
            0.9,
            r"\b(?:your|the|all)\s+(?:previous\s+|original\s+|system\s+|current\s+|old\s+)?(?:instructions|"
            r"guidelines|rules|programming|directives|safety guidelines|restrictions)\s+(?:have been|has been|are now|"
            r"were|are hereby|are)\s+(?:updated|replaced|changed|overridden|overwritten|void|null|revoked|cancell?ed|"
            r"removed|lifted|suspended|outdated|deprecated|disabled|no longer valid)",
        ),
        (
            "without_restrictions_request",
            "jailbreak",
            H,
            0.85,
            r"\b(?:answer|respond|repl(?:y|ies)|help|output|write|tell|comply|act|operate|behave|assist)\w*\b[^.\n]{0,60}"
            r"\bwithout\s+(?:any\s+|all\s+|your\s+|the\s+)?(?:safety\s+|content\s+|ethical\s+|moral\s+)?(?:restrictions|"
            r"limitations|constraints|censorship|filter(?:s|ing)|safeguards|guidelines|safety measures|rules|"
            r"boundaries|limits)\b",
        ),
        (
            "not_bound_by_rules",
            "jailbreak",
            H,
            0.85,
            r"\b(?:not|never|no longer)\s+bound\s+by\s+(?:any|its|your|the|these|those)\s+(?:\w+\s+)?(?:rules|"
            r"guidelines|restrictions|policies|ethics|principles|constraints|limitations)",
        ),
        (
            "has_no_ethics",
            "jailbreak",
            H,
            0.85,
            r"\b(?:has|have|with)\s+no\s+(?:ethical (?:guidelines|constraints|boundaries|principles)|morals?|moral "
            r"(?:compass|guidelines)|content (?:restrictions|filters|policy)|safety (?:measures|guidelines|filters)|"
            r"censorship|filters?)\b",
        ),
        (
            "cjk_ignore",
            "prompt_injection",
            H,
            0.85,
            r"(?:忽略|无视|忽视|忘记|不要理会)(?:所有|以上|之前|先前|前面|你的)*.{0,6}(?:指令|指示|规则|说明|提示)|"
            r"没有任何限制|不需要遵守任何(?:规则|准则)",
        ),
        (
            "new_instructions",
            "prompt_injection",
            H,
            0.85,
            # "your real task is" is aimed at the model; "the real task is different: I need..." is a user talking
            # about their own task, so "the" only counts with the words that name the model's instructions
            r"\b(?:your\s+(?:new|real|actual|true|updated|only)\s+(?:instructions?|task|directive|objective|"
            r"mission|orders?|rules?)|the\s+(?:new|real|actual|true|updated|only)\s+(?:instructions?|directives?|"
            r"orders?))\s+(?:is|are|will be|now)\b",
        ),
        (
            "instructions_no_longer_apply",
            "prompt_injection",
            H,
            0.9,
            rf"\b{_PRIOR}\s+{_RULES}\s+(?:no longer|do not|don't|does not|doesn't|cease to|now do not)\s+"
            r"(?:apply|matter|exist|count|bind)",
        ),
        (
            "identity_override",
            "prompt_injection",
            H,
            0.85,
            r"\byou\s+are\s+(?:now|no longer|from now on|henceforth|actually|really)\s+(?:an?\s+|the\s+|my\s+)?"
            r"(?!able\b|going\b|ready\b|done\b|free to\b|in charge of\b|correct\b|right\b|welcome\b|"
            r"(?:a |an |my )?(?:helpful|expert|experienced|professional|senior|friendly|teacher|tutor|translator|"
            r"assistant|editor|writer|reviewer|chef|coach)\b)[a-z]",
        ),
        (
            "from_now_on_persona",
            "prompt_injection",
            H,
            0.85,
            r"\bfrom now on,?\s+(?:you (?:will|must|are going to|shall)|act|respond|answer|behave)\b[^.\n]{0,80}"
            r"\b(?:without|no|ignore|unfiltered|uncensored|any(?:thing)?|never refuse|regardless)\b",
        ),
        (
            "disable_safety",
            "prompt_injection",
            H,
            0.85,
            r"\b(?:disable|turn off|deactivate|remove|bypass|switch off|lift|suspend|circumvent|get around|evade|"
            r"jailbreak)\s+(?:all\s+|any\s+|your\s+|the\s+|its\s+)*(?:safety|content|ethical|moral)?\s*(?:filters?|"
            r"guardrails?|safeguards?|restrictions?|censorship|moderation|safety (?:measures|protocols|features|"
            r"settings|checks)|limitations?)\b",
        ),
        (
            "conversation_boundary",
            "prompt_injection",
            H,
            0.85,
            r"(?:\[|<|\(|#)\s*(?:end of (?:conversation|chat|session|context|prompt|system prompt|instructions)|"
            r"(?:beginning|start) of (?:new |a new )?(?:session|conversation|chat|instructions))\s*(?:\]|>|\)|#)",
        ),
        (
            "delimiter_injection",
            "prompt_injection",
            H,
            0.8,
            r"(?:^|\n)\s*(?:-{3,}|={3,}|\*{3,}|#{3,})\s*(?:new\s+)?(?:system|instructions?|prompt|admin|developer)"
            r"(?:\s+(?:message|prompt|override|instructions?))?\s*(?:-{3,}|={3,}|\*{3,}|#{3,}|:)",
        ),
        (
            "multilingual_ignore",
            "prompt_injection",
            H,
            0.85,
            r"\b(?:ignor[ae]\w*|olvid[ae]\w*|oubli\w*|vergiss\w*|ignorier\w*|dimentic\w*|esque[cç]\w*|negeer\w*)\b"
            r"[^.\n]{0,40}\b(?:instruc\w*|anweisung\w*|istruzion\w*|instru[cç][õo]\w*|regl\w*|regel\w*|"
            r"consign\w*|indicaciones|vorherig\w*|anterior\w*|pr[ée]c[ée]dent\w*|precedent\w*|vorige)",
        ),
        (
            "do_anything_now",
            "jailbreak",
            C,
            0.95,
            r"\b(?:dan|do anything now)\b[^\n]{0,120}\b(?:do anything|no (?:restrictions|limits|rules|filters)|"
            r"without (?:restrictions|limits|rules|filters)|broken free|freed from)|\bdo anything now\b",
        ),
        (
            "developer_mode",
            "jailbreak",
            H,
            0.9,
            r"\b(?:developer|dev|debug|god|admin|jailbreak|unrestricted|evil|chaos|opposite|dude|stan|aim)\s*mode\b"
            r"[^\n]{0,200}\b(?:enabled|activated|on\b(?!\s+(?:an?|my|the|your|our|this|his|her)\b)|allows?|can (?:generate|say|do)|no (?:restrictions|rules|"
            r"limits|filters|censorship)|ignore|without|any content|anything)",
        ),
        (
            "enable_mode",
            "jailbreak",
            H,
            0.85,
            # aimed at the model, not at a device: "how do I enable developer mode on my Android phone" and "stuck
            # in maintenance mode after an update" are everyday questions
            r"\b(?:enable|activate|enter|switch to|turn on|you are (?:now )?in|you're (?:now )?in|operating in|"
            r"operate in|now in)\s+(?:the\s+)?"
            r"['\"]?(?:developer|dev|god|debug|maintenance|transparent|unofficial|jailbreak|unrestricted|unfiltered|"
            r"uncensored|evil|chaos|opposite|dan|sudo|root|admin(?:istrator)?)['\"]?\s+mode\b"
            r"(?!\s+(?:on|in|for|of)\s+(?:my|an?|the|our|this|your)\s+(?:[\w-]+\s+){0,2}?(?:phone|android|iphone|ipad|"
            r"tablet|device|router|tv|laptop|pc|computer|mac|macbook|browser|chrome|firefox|windows|console|xbox|"
            r"playstation|car|app|roomba|camera|printer|chromebook|kindle|watch|server|bios|game)s?\b)",
        ),
        (
            "no_restrictions_persona",
            "jailbreak",
            H,
            0.85,
            r"\b(?:you|ai|assistant|model|chatbot|character|persona|version of you|it)\b[^.\n]{0,60}\b(?:has|have|with|"
            r"are|is|operates? with|without)\s+(?:no|zero|none of (?:the|your)|without)\s+(?:content\s+)?(?:"
            r"restrictions|limits|limitations|rules|filters|guidelines|ethics|ethical (?:guidelines|constraints|"
            r"boundaries)|morals|moral (?:compass|guidelines)|censorship|boundaries|constraints)",
        ),
        (
            "unfiltered_ai",
            "jailbreak",
            H,
            0.85,
            r"\b(?:unfiltered|uncensored|unrestricted|amoral|unethical|untrammel+ed|unbound|jailbroken)\s+"
            r"(?:ai|assistant|chatbot|model|version|mode|response|persona|character|gpt|llm|bot)\b",
        ),
        (
            "stay_in_character",
            "jailbreak",
            M,
            0.75,
            r"\b(?:stay|remain|keep)\s+in\s+character\b[^\n]{0,200}\b(?:no matter|regardless|even if|always|never "
            r"(?:break|refuse))|\bnever (?:break character|refuse (?:a|any) (?:request|question))",
        ),
        (
            "dual_response",
            "jailbreak",
            H,
            0.85,
            r"\b(?:two|2|dual|both)\s+(?:different\s+)?(?:responses|answers|replies)\b[^\n]{0,200}\b(?:normal|"
            r"classic|standard|filtered)\b[^\n]{0,200}\b(?:jailbr|unfiltered|developer|dan|evil|uncensored|"
            r"opposite)",
        ),
        ("godmode_format", "jailbreak", C, 0.95, r"\bgodmode\s*:\s*enabled\b|\[start output\]"),
        (
            "hypothetical_no_rules",
            "jailbreak",
            H,
            0.85,
            r"\b(?:imagine|pretend|suppose|hypothetical(?:ly)?|in a (?:world|universe|story)|parallel universe|"
            r"fictional world)\b[^.\n]{0,120}\b(?:no|without)\s+(?:content\s+)?(?:restrictions|rules|filters|"
            r"guidelines|ethics|limits|censorship|laws)\b",
        ),
        (
            "pretend_no_rules",
            "jailbreak",
            H,
            0.85,
            r"\b(?:pretend|act as if|act like|behave as if|roleplay as if)\b[^.\n]{0,60}\b(?:you (?:have|had) no|"
            r"(?:are|were) not bound|(?:can|could) (?:do|say) anything|are free (?:of|from))",
        ),
        # --- role injection -----------------------------------------------------------------------------------
        (
            "role_system",
            "role_injection",
            H,
            0.85,
            r"(?:^|\n)\s*(?:\[|<\|?|###\s*)?system(?:\]|\|?>)?\s*:\s*(?:you|ignore|new|override|from now|the user|"
            r"disregard|forget|all|reveal|assistant)",
        ),
        (
            "chat_template_tokens",
            "role_injection",
            H,
            0.9,
            r"<\|(?:im_start|im_end|system|endoftext|start_header_id|eot_id)\|>|\[/?inst\]|<</?sys>>",
        ),
        # --- prompt extraction --------------------------------------------------------------------------------
        (
            "reveal_system_prompt",
            "prompt_extraction",
            H,
            0.85,
            rf"\b{_REVEAL}\b[^.?!\n]{{0,40}}?\b(?:your|the|its|this bot's|the ai's|initial|original|hidden|secret)"
            rf"\s+(?:\w+\s+)?{_SECRET_PROMPT}",
        ),
        (
            "your_system_prompt",
            "prompt_extraction",
            H,
            0.85,
            r"\b(?:share|display|output|reveal|read|tell|disclose|show|give|print|provide|include|begin|start|repeat|"
            r"recite|encode|summari[sz]e|concatenate|request(?:ing)?|dump|list|see|access)\b[^.?!\n]{0,60}\byour\s+"
            r"(?:\w+\s+){0,2}(?:system prompts?|instruction set|internal prompts?|system message|hidden instructions|"
            r"system configuration|full configuration|initial instructions|system instructions)\b|"
            r"\b(?:system prompts?|instruction set|internal prompts?)\b[^.?!\n]{0,40}\b(?:with the user|to the user|"
            r"is public|are public|upon request)|\b(?:beginning|start|first (?:line|words?))\s+of\s+your\s+"
            r"(?:instructions|system prompt|prompt)",
        ),
        (
            "repeat_text_above",
            "prompt_extraction",
            H,
            0.85,
            r"\b(?:repeat|print|output|copy|reproduce|recite|write)\b[^.\n]{0,30}\b(?:the |all )?(?:text|words|"
            r"everything|content|message|lines)\s+(?:above|before this|preceding|that (?:came|comes) before|"
            r"prior to (?:this|my))|\bstarting with\s+['\"]?you are\b",
        ),
        (
            "what_were_you_told",
            "prompt_extraction",
            H,
            0.85,
            r"\bwhat\s+(?:were you|have you been|did (?:they|your (?:developers?|creators?)))\s+(?:told|instructed|"
            r"programmed|configured)\s+(?:to|not to|before)",
        ),
        (
            "secret_extraction",
            "prompt_extraction",
            H,
            0.85,
            r"\b(?:tell|give|reveal|show|share|what(?:'s| is))\b[^.\n]{0,25}\b(?:me\s+)?(?:the|your)\s+(?:secret|"
            r"hidden|access|admin|master)\s+(?:password|passphrase|key|code|token|word)\b",
        ),
        (
            "password_solicitation",
            "prompt_extraction",
            H,
            0.8,
            r"\b(?:what is|tell me|give me|say|reveal|spell)\b[^.\n]{0,20}\bthe\s+password\b",
        ),
        # --- privilege and authority impersonation ---------------------------------------------------------------
        (
            "authority_override",
            "prompt_injection",
            H,
            0.85,
            r"\b(?:i am|i'm|this is)\s+(?:your|the|an?)\s+(?:creator|developer|owner|admin(?:istrator)?|master|"
            r"system administrator|sysadmin|operator|programmer|openai|anthropic)\b[^\n]{0,120}\b(?:ignore|override|"
            r"disable|bypass|command you|order you|authori[sz]e|unlock|grant|without restrictions|new instructions|"
            r"must obey|obey me)",
        ),
        (
            "obey_user_unconditionally",
            "prompt_injection",
            H,
            0.85,
            r"\b(?:obey|comply with|follow)\s+(?:me|all\s+)?(?:the\s+)?(?:user'?s?\s+|my\s+)?(?:every\s+)?"
            r"(?:instructions|commands|orders|requests)?\s*(?:unconditionally|without (?:question|exception|hesitation)|"
            r"no matter what|blindly)",
        ),
        (
            "header_injection",
            "header_injection",
            H,
            0.85,
            r"(?:^|\n)\s*(?:\[(?:system|admin|developer|root)\]\s*:?\s+\w|(?:from|message from)\s+(?:the\s+)?(?:system|"
            r"admin(?:istrator)?|developer)s?\s*:|-{2,}\s*(?:system|admin)\s+message\s*-{2,}|"
            r"(?:important|urgent|critical)\s+(?:system\s+|security\s+)?(?:message|notice|instruction|update)s?"
            r"(?:\s+from\s+(?:the\s+)?(?:admin|administrator|system|developer)s?)?\s*:)",
        ),
        (
            "follow_embedded_instructions",
            "prompt_injection",
            H,
            0.8,
            r"\b(?:then|and)\s+(?:follow|execute|obey|carry out)\s+(?:the\s+)?(?:translated|decoded|hidden|"
            r"following|embedded)\s+(?:instructions?|commands?|text)",
        ),
        # --- indirect injection: notes aimed at the model inside content it is asked to process (issue 17) ---------
        (
            "note_to_the_model",
            "prompt_injection",
            H,
            0.85,
            r"\b(?:note|message|attention|instructions?|reminder|important|notice)\s+(?:to|for)\s+(?:the\s+|any\s+|all\s+|"
            r"every\s+)?(?:ai|a\.i\.|assistant|language model|llm|chatbot|ai model|ai agent|model processing this)s?\b"
            r"(?!\s+(?:manager|professor|coach|director|editor|teacher|engineer|researcher|role|position|job|course|"
            r"class|team|developer|training))|\b(?:ai|a\.i\.|assistant|language model|llm|chatbot|agent|model)s?\s+"
            r"(?:reading|processing|parsing|summari[sz]ing|analy[sz]ing)\s+(?:this|these)\b",
        ),
        (
            "covert_instruction",
            "prompt_injection",
            H,
            0.85,
            r"\b(?:do not|don't|never)\s+(?:mention|reveal|disclose|tell (?:the user|anyone) about)\s+(?:this|these)\s+"
            r"(?:note|instructions?|message|comment|cell|line)s?\b|(?:^|[\"'|#]\s*)(?:assistant|system|ai)\s*:\s*(?:new|"
            r"updated|your real|the real)\s+(?:task|instructions?|orders?)\b|\[(?:instructions?|hidden instructions?|"
            r"ai instructions?|note to ai)\]",
        ),
        # --- the model's own context named indirectly ---------------------------------------------------------------
        (
            "context_reference",
            "prompt_extraction",
            H,
            0.8,
            r"\b(?:you were|you've been|you have been)\s+(?:told|instructed|asked|configured|programmed)\s+not\s+to\s+"
            r"(?:tell|share|reveal|say|disclose|mention|show)\b|\b(?:text|message|paragraph|words?|thing|instructions?)\s+"
            r"(?:\w+\s+){0,3}?(?:before|above)\s+(?:my (?:first )?message|i started typing|(?:our|the|this) "
            r"(?:conversation|chat) (?:started|began)|the line that says)|\b(?:in|of|from|at the (?:top|start|beginning) of)\s+"
            r"your\s+(?:context(?:\s+window)?|system (?:role|message|prompt))\b|\bwhat\s+(?:did\s+)?(?:your|the)\s+"
            r"(?:operator|developer|creator|admin)s?\s+(?:wrote|write|told|tell|said|say)\b|\bopposite of (?:what )?your\s+"
            r"(?:\w+\s+)?(?:instructions?|rules?|guidelines|programming)",
        ),
        # --- payload splitting: fragments the model must join and then obey -------------------------------------------
        (
            "fragment_assembly",
            "prompt_injection",
            H,
            0.85,
            r"\b(?:join|combine|concatenate|merge|put together|assemble)\b[^\n]{0,60}?\b(?:and|then|,)\s+(?:follow|obey|"
            r"execute|carry out|act on|perform)\b|\bdo what\s+\w+\s*\+\s*\w+\s+says\b|\b(?:execute|exec|eval|run|do)\s*\(\s*"
            r"\w+\s*\+\s*\w+\s*\)|\bread the words in order\b[^\n]{0,40}\b(?:and|then)\s+(?:do|follow|obey)",
        ),
        # --- shell, SQL, exfiltration -----------------------------------------------------------------------------
        ("curl_pipe_shell", "shell_injection", H, 0.9, r"\b(?:curl|wget)\b[^\n|]{0,200}\|\s*(?:sudo\s+)?(?:ba|z)?sh\b"),
        (
            "reverse_shell",
            "shell_injection",
            H,
            0.9,
            r"\b(?:nc|ncat|netcat)\b[^\n]{0,40}\s-e\s+/bin/(?:ba)?sh|/dev/tcp/\d{1,3}(?:\.\d{1,3}){3}/\d+|"
            r"\bbash\s+-i\s+>&",
        ),
        (
            "rm_rf_root",
            "shell_injection",
            C,
            0.95,
            r"\brm\s+-(?:rf|fr|r\s+-f|f\s+-r)\s+(?:--no-preserve-root\s+)?/(?:\s|$|\*)",
        ),
        (
            "python_exec_socket",
            "shell_injection",
            H,
            0.85,
            r"\b(?:exec|eval)\s*\(\s*(?:__import__|compile|base64|requests\.get|urllib)",
        ),
        (
            "sql_tautology",
            "p2sql_injection",
            H,
            0.9,
            r"'\s*(?:or|and)\s+'?\d+'?\s*=\s*'?\d+|\bunion\s+(?:all\s+)?select\b|;\s*drop\s+(?:table|database)\b|"
            r";\s*(?:delete\s+from|truncate\s+table|update\s+\w+\s+set)\b|'\s*;\s*--",
        ),
        (
            "sql_dump_request",
            "p2sql_injection",
            H,
            0.85,
            r"\b(?:drop|delete|truncate)\s+(?:all\s+)?(?:the\s+)?(?:tables?|database|users? table|records)\b[^.\n]{0,30}"
            r"\b(?:now|immediately|from the database)|\bselect\s+\*\s+from\s+(?:users|passwords|credentials|accounts)\b",
        ),
        (
            "exfiltrate_to_url",
            "data_exfiltration",
            H,
            0.85,
            r"\b(?:send|post|upload|forward|exfiltrate|transmit|leak|email|e-mail)\b[^.\n]{0,60}\b(?:conversation|"
            r"chat history|system prompt|credentials|passwords?|api keys?|secrets?|tokens?|user data|personal data|"
            r"all (?:the )?data|private data|contents?)\b[^.\n]{0,60}\b(?:to|at)\s+(?:https?://|\S+@\S+\.\w+|"
            r"(?:this|my|the following|an external) (?:url|server|endpoint|address|email|webhook))",
        ),
        (
            "read_sensitive_file",
            "shell_injection",
            H,
            0.85,
            r"\b(?:open|cat|read|type|less|more|head|tail|print|get-content)\b\s*\(?\s*['\"]?(?:/etc/(?:passwd|shadow|sudoers)|"
            r"~?/?\.ssh/id_\w+|~?/?\.aws/credentials)",
        ),
        (
            "cookie_exfil",
            "data_exfiltration",
            H,
            0.85,
            r"\b(?:fetch|xmlhttprequest|navigator\.sendbeacon|new image|axios|\$\.(?:get|post))\b[^\n]{0,120}"
            r"document\.cookie|document\.cookie[^\n]{0,80}https?://",
        ),
        (
            "markdown_image_exfil",
            "data_exfiltration",
            H,
            0.85,
            r"!\[[^\]]*\]\(https?://[^)\s]+\?(?:[^)\s]*=)?(?:\{|\$|%7b)",
        ),
    ]
)

# Weak persuasion signals (the DMPI-PMHFE "auxiliary" features). They feed the score only up to 30: never alone
# enough to flag a prompt, but recorded so an analyst sees them.
AUXILIARY: tuple[Pattern, ...] = tuple(
    Pattern(name, kind, Severity.MEDIUM, conf, re.compile(rx))
    for name, kind, conf, rx in [
        ("tip_reward", "is_incentive", 0.65, r"\b(?:i(?:'ll| will) tip|\$\d+ tip|you(?:'ll| will) be rewarded)\b"),
        ("urgent", "is_urgent", 0.65, r"\b(?:urgent(?:ly)?|immediately|right now|life or death|emergency)\b"),
        ("hypothetical", "is_hypothetical", 0.6, r"\b(?:hypothetically|let's pretend|in a fictional|imagine that)\b"),
        ("covert", "is_covert", 0.7, r"\b(?:don't tell anyone|between (?:you and me|us)|off the record|secretly)\b"),
        ("systemic", "is_systemic", 0.7, r"\b(?:as (?:an|the) (?:admin|administrator|developer)|sudo\b)"),
        (
            "immoral_excuse",
            "is_immoral",
            0.65,
            r"\bfor (?:educational|research|academic) purposes only\b|\bpurely (?:hypothetical|fictional)\b",
        ),
    ]
)

SUSPICIOUS_DECODED = re.compile(
    r"\b(?:ignore|disregard|forget)\b[^.\n]{0,40}\b(?:instructions?|rules|prompt|above|previous)\b|"
    r"\bsystem prompt\b|\byou are now\b|\bjailbreak\b|\bno restrictions\b|\bnew instructions\b|"
    r"\boverride\b[^.\n]{0,20}\b(?:rules|instructions|safety)\b|\breveal\b[^.\n]{0,30}\b(?:prompt|password|secret)\b|"
    r"\bhow to (?:make|build|hack|steal)\b|\bbypass\b[^.\n]{0,20}\b(?:safety|filter|security)\b",
    re.IGNORECASE,
)

MANY_SHOT_TURNS = 16  # embedded turns from which the structure alone is a many-shot attack
MANY_SHOT_TURN = re.compile(
    r"(?:^|\n)\s*(?:q|question|user|human)\s*:.*?\n\s*(?:a|answer|assistant|ai)\s*:", re.IGNORECASE
)

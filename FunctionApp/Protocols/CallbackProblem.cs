namespace FunctionApp.Protocols;

/// <summary>Why a callback is refused. Each kind has one HTTP status and one OpenIM errCode (README "Answers").</summary>
public enum CallbackProblemKind
{
    /// <summary>The body is not one well-formed JSON object (syntax, invalid UTF-8, too deep, duplicate property names).</summary>
    MalformedJson,
    /// <summary>A field has the wrong JSON type (a number where a string is expected, an object where an array is).</summary>
    WrongType,
    /// <summary>A required field is missing, null, empty or only white space.</summary>
    MissingField,
    /// <summary>A value is not acceptable: an id too long or not valid Unicode, an out-of-range number, two spellings that disagree.</summary>
    InvalidValue,
    /// <summary>More pairs or items than <see cref="CallbackLimits.MaxPairs"/>.</summary>
    TooManyItems,
    /// <summary>The body is over <see cref="CallbackLimits.MaxBodyBytes"/>, or one event cannot fit in a queue message.</summary>
    TooLarge,
    /// <summary>No callback command, or the URL's and the body's commands disagree.</summary>
    CommandMismatch,
    /// <summary>Tencent: the SdkAppid query parameter is missing.</summary>
    MissingAppId,
    /// <summary>Credentials missing or wrong: Tencent Sign/RequestTime, OpenIM callback key missing.</summary>
    Unauthenticated,
    /// <summary>Not served here: an unknown SdkAppid, a wrong OpenIM callback key.</summary>
    Forbidden,
    /// <summary>The path does not name a callback route.</summary>
    NotFound,
    /// <summary>The callback was fine but could not be queued (the host's answer when enqueueing fails).</summary>
    Unavailable,
}

/// <summary>Thrown while reading a callback; the ingestor turns it into the platform's error answer.</summary>
public sealed class CallbackRejectedException : Exception
{
    public CallbackRejectedException(CallbackProblemKind kind, string message) : base(message) => Kind = kind;
    public CallbackRejectedException(CallbackProblemKind kind, string message, Exception innerException) : base(message, innerException) => Kind = kind;

    public CallbackProblemKind Kind { get; }
}

public static class CallbackProblems
{
    public static int HttpStatus(CallbackProblemKind kind) => kind switch
    {
        CallbackProblemKind.TooLarge => 413,
        CallbackProblemKind.Unauthenticated => 401,
        CallbackProblemKind.Forbidden => 403,
        CallbackProblemKind.NotFound => 404,
        CallbackProblemKind.Unavailable => 503,
        _ => 400,
    };

    /// <summary>OpenIM's custom error range is 20001-29999; one code per kind so the sender's logs say what went wrong.</summary>
    public static int OpenImErrorCode(CallbackProblemKind kind) => kind switch
    {
        CallbackProblemKind.MalformedJson => 20001,
        CallbackProblemKind.WrongType => 20002,
        CallbackProblemKind.MissingField => 20003,
        CallbackProblemKind.InvalidValue => 20004,
        CallbackProblemKind.TooManyItems => 20005,
        CallbackProblemKind.TooLarge => 20006,
        CallbackProblemKind.CommandMismatch => 20007,
        CallbackProblemKind.MissingAppId => 20008,
        CallbackProblemKind.Unauthenticated => 20009,
        CallbackProblemKind.Forbidden => 20010,
        CallbackProblemKind.NotFound => 20011,
        CallbackProblemKind.Unavailable => 20012,
        _ => 29999,
    };
}

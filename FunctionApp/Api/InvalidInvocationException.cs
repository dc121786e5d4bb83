namespace FunctionApp.Api;

/// <summary>The Functions host sent an invocation payload that does not have the documented shape.</summary>
public sealed class InvalidInvocationException : Exception
{
    public InvalidInvocationException() { }
    public InvalidInvocationException(string message) : base(message) { }
    public InvalidInvocationException(string message, Exception innerException) : base(message, innerException) { }
}

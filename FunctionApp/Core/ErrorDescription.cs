namespace FunctionApp.Core;

/// <summary>Exception facts safe for a log, an answer or a dead-letter description: type and the first line of the message, shortened.</summary>
public static class ErrorDescription
{
    public static string Of(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var message = exception.Message;
        var lineEnd = message.AsSpan().IndexOfAny('\r', '\n');
        if (lineEnd >= 0)
        {
            message = message[..lineEnd];
        }

        if (message.Length > 200)
        {
            message = message[..200] + "...";
        }

        return $"{exception.GetType().Name}: {message}";
    }
}

using System.Text;

namespace FunctionApp.Tests.Redrive;

/// <summary>Collects what the re-drive prints, and can cancel the run when a line starting with a given word appears.</summary>
internal sealed class RedriveOutput(string? cancelOnLineStartingWith = null, CancellationTokenSource? cancel = null) : TextWriter
{
    private readonly StringBuilder _text = new();
    private readonly StringBuilder _line = new();

    public override Encoding Encoding => Encoding.UTF8;

    public string Text
    {
        get
        {
            lock (_text)
            {
                return _text.ToString();
            }
        }
    }

    public IReadOnlyList<string> Lines => Text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public override void Write(char value)
    {
        lock (_text)
        {
            _text.Append(value);
            if (value != '\n')
            {
                _line.Append(value);
                return;
            }

            var line = _line.ToString();
            _line.Clear();
            if (cancelOnLineStartingWith is not null && line.StartsWith(cancelOnLineStartingWith, StringComparison.Ordinal))
            {
                cancel?.Cancel();
            }
        }
    }
}

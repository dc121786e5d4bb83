namespace FunctionApp.Hosting;

/// <summary>One dependency the health endpoint checks (the tables, the standalone queue).</summary>
public interface IHealthProbe
{
    /// <summary>Short name shown in the health answer, for example "tables" or "queue".</summary>
    string Name { get; }

    /// <summary>Completes when the dependency answers; throws when it does not.</summary>
    Task CheckAsync(CancellationToken cancellationToken);
}

namespace MedSsl.Data;

/// <summary>Which part of an experiment an item belongs to. File 000 splits by patient into a small labelled
/// training set, a large unlabelled one, a validation set (thresholds, early stopping) and a test set.</summary>
public enum DataSplit
{
    Unassigned,
    Labelled,
    Unlabelled,
    Validation,
    Test,
}

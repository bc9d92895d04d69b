namespace MedSsl;
